using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.PubSub;

public static class PushEndpoints
{
    public const string RequestTimeoutPolicy = "callers";

    public static IEndpointRouteBuilder MapPushEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/consumer/push", HandlePushAsync)
            .DisableAntiforgery()
            .WithRequestTimeout(RequestTimeoutPolicy)
            .RequireCaller(app.ServiceProvider, SecurityPolicies.Push);
        return app;
    }

    /// <summary>
    /// 204 acknowledges (processed, duplicate, stale, ignored, quarantined); 413 refuses an oversized body;
    /// 503 asks Pub/Sub to redeliver after a transient failure.
    /// </summary>
    public static Task<Results<NoContent, ProblemHttpResult>> HandlePushAsync(
        HttpContext http, PushHandler handler, IOptions<PushOptions> options, ILogger<PushHandler> logger) =>
        DeliveryAnswers.AnswerAsync(
            http, options.Value.MaxBodyBytes, handler,
            static async (handler, body, headers, cancellationToken) =>
                (await handler.HandleAsync(body, headers, cancellationToken)).ToString().ToLowerInvariant(),
            logger);
}
