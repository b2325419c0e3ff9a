using Microsoft.AspNetCore.Http.HttpResults;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.PubSub;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.Reminders;

public static class TaskEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapTaskEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/tasks/cart-reminder", HandleCartReminderAsync)
            .DisableAntiforgery()
            .WithRequestTimeout(PushEndpoints.RequestTimeoutPolicy)
            .RequireCaller(app.ServiceProvider, SecurityPolicies.Tasks);
        return app;
    }

    /// <summary>2xx completes the task (sent, already sent, skipped, dead-lettered, quarantined); 503 makes Cloud Tasks retry.</summary>
    public static Task<Results<NoContent, ProblemHttpResult>> HandleCartReminderAsync(
        HttpContext http, ReminderCallbackHandler handler, ILogger<ReminderCallbackHandler> logger) =>
        DeliveryAnswers.AnswerAsync(http, MaxBodyBytes, handler, static (handler, body, headers, cancellationToken) =>
            handler.HandleAsync(body, headers, cancellationToken), logger);
}
