using Microsoft.Extensions.Options;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.PubSub;

public static class PushEndpoints
{
    /// <summary>
    /// 204 acknowledges (processed, duplicate, stale, ignored, quarantined); 413 refuses an oversized body;
    /// 503 asks Pub/Sub to redeliver after a transient failure; 504 answers a delivery still handled after
    /// <c>PulseCart:Push:RequestTimeout</c>; 429 one beyond <c>PulseCart:Push:MaxInFlight</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapPushEndpoints(this IEndpointRouteBuilder app)
    {
        // A plain request delegate over singletons, its delegates made once: no per-request binding, service scope or
        // delegate on the hottest route.
        var handler = app.ServiceProvider.GetRequiredService<PushHandler>();
        var options = app.ServiceProvider.GetRequiredService<IOptions<PushOptions>>().Value;
        var maxBodyBytes = options.MaxBodyBytes;
        var answers = new DeliveryAnswers(app.ServiceProvider.GetRequiredService<ILogger<PushHandler>>(), options.RequestTimeout, options.MaxInFlight);
        Func<ReadOnlyMemory<byte>, IHeaderDictionary, CancellationToken, Task<PushResult>> handle = handler.HandleAsync;
        app.MapPost("/consumer/push", http => answers.AnswerAsync(http, maxBodyBytes, handle, static result => result.Name))
            .DisableAntiforgery()
            .RequireCaller(app.ServiceProvider, SecurityPolicies.Push);
        return app;
    }
}
