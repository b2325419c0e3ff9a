using Microsoft.Extensions.Options;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.PubSub;

public static class PushEndpoints
{
    public const string RequestTimeoutPolicy = "callers";

    /// <summary>
    /// 204 acknowledges (processed, duplicate, stale, ignored, quarantined); 413 refuses an oversized body;
    /// 503 asks Pub/Sub to redeliver after a transient failure.
    /// </summary>
    public static IEndpointRouteBuilder MapPushEndpoints(this IEndpointRouteBuilder app)
    {
        // A plain request delegate over singletons, its delegates made once: no per-request binding, service scope or
        // delegate on the hottest route.
        var handler = app.ServiceProvider.GetRequiredService<PushHandler>();
        var maxBodyBytes = app.ServiceProvider.GetRequiredService<IOptions<PushOptions>>().Value.MaxBodyBytes;
        var answers = new DeliveryAnswers(app.ServiceProvider.GetRequiredService<ILogger<PushHandler>>());
        Func<ReadOnlyMemory<byte>, IHeaderDictionary, CancellationToken, Task<PushResult>> handle = handler.HandleAsync;
        app.MapPost("/consumer/push", http => answers.AnswerAsync(http, maxBodyBytes, handle, static result => result.Name))
            .DisableAntiforgery()
            .WithRequestTimeout(RequestTimeoutPolicy)
            .RequireCaller(app.ServiceProvider, SecurityPolicies.Push);
        return app;
    }
}
