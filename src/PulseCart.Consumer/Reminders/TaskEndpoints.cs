using Microsoft.Extensions.Options;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.PubSub;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.Reminders;

public static class TaskEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>2xx completes the task (sent, already sent, skipped, dead-lettered, quarantined); 503 makes Cloud Tasks retry.</summary>
    public static IEndpointRouteBuilder MapTaskEndpoints(this IEndpointRouteBuilder app)
    {
        var handler = app.ServiceProvider.GetRequiredService<ReminderCallbackHandler>();
        // No bound of ours on callbacks in progress: the queue's maxConcurrentDispatches is one (20 in deploy/), bodies
        // are at most 64 KiB, and a 429 to a task's last attempt would cost it the quarantine that attempt guarantees.
        var deadline = app.ServiceProvider.GetRequiredService<IOptions<PushOptions>>().Value.RequestTimeout;
        var answers = new DeliveryAnswers(
            app.ServiceProvider.GetRequiredService<ILogger<ReminderCallbackHandler>>(), deadline, maxInFlight: int.MaxValue);
        Func<ReadOnlyMemory<byte>, IHeaderDictionary, CancellationToken, Task<string>> handle = handler.HandleAsync;
        app.MapPost("/tasks/cart-reminder", http => answers.AnswerAsync(http, MaxBodyBytes, handle, static outcome => outcome))
            .DisableAntiforgery()
            .RequireCaller(app.ServiceProvider, SecurityPolicies.Tasks);
        return app;
    }
}
