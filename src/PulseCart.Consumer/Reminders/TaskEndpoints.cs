using Microsoft.Extensions.Options;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.PubSub;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.Reminders;

public static class TaskEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>2xx completes the task (sent, already sent, skipped, dead-lettered, quarantined); 503 makes Cloud Tasks retry, and so does 429 beyond <c>PulseCart:Push:MaxInFlight</c> callbacks in progress.</summary>
    public static IEndpointRouteBuilder MapTaskEndpoints(this IEndpointRouteBuilder app)
    {
        var handler = app.ServiceProvider.GetRequiredService<ReminderCallbackHandler>();
        var options = app.ServiceProvider.GetRequiredService<IOptions<PushOptions>>().Value;
        var answers = new DeliveryAnswers(
            app.ServiceProvider.GetRequiredService<ILogger<ReminderCallbackHandler>>(), options.RequestTimeout, options.MaxInFlight);
        Func<ReadOnlyMemory<byte>, IHeaderDictionary, CancellationToken, Task<string>> handle = handler.HandleAsync;
        app.MapPost("/tasks/cart-reminder", http => answers.AnswerAsync(http, MaxBodyBytes, handle, static outcome => outcome))
            .DisableAntiforgery()
            .RequireCaller(app.ServiceProvider, SecurityPolicies.Tasks);
        return app;
    }
}
