using Microsoft.AspNetCore.Http.HttpResults;
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
    public static async Task<Results<NoContent, ProblemHttpResult>> HandleCartReminderAsync(
        HttpContext http,
        ReminderCallbackHandler handler,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        var body = await PushEndpoints.ReadBodyAsync(http.Request, MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return TypedResults.Problem($"reminder callback exceeds {MaxBodyBytes} bytes", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        try
        {
            http.Response.Headers[PushEndpoints.OutcomeHeader] = await handler.HandleAsync(body.Value, http.Request.Headers, cancellationToken);
            return TypedResults.NoContent();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            loggerFactory.CreateLogger(typeof(TaskEndpoints)).LogWarning(
                exception, "Reminder callback failed; Cloud Tasks will retry");
            return PushEndpoints.RetryLater(exception);
        }
    }
}
