using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.PubSub;

public static class PushEndpoints
{
    public const string OutcomeHeader = "X-PulseCart-Outcome";
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
    public static async Task<Results<NoContent, ProblemHttpResult>> HandlePushAsync(
        HttpContext http,
        PushHandler handler,
        IOptions<PushOptions> options,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(http.Request, options.Value.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return TypedResults.Problem(
                $"request body exceeds PulseCart:Push:MaxBodyBytes ({options.Value.MaxBodyBytes} bytes)",
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        try
        {
            var outcome = await handler.HandleAsync(body.Value, http.Request.Headers, cancellationToken);
            http.Response.Headers[OutcomeHeader] = outcome.ToString().ToLowerInvariant();
            return TypedResults.NoContent();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            loggerFactory.CreateLogger(typeof(PushEndpoints)).LogWarning(
                exception, "Push not acknowledged after a transient failure; Pub/Sub will redeliver");
            return RetryLater(exception);
        }
    }

    /// <summary>The answer to a transient failure: 503, so that Pub/Sub or Cloud Tasks delivers again later.</summary>
    internal static ProblemHttpResult RetryLater(Exception exception) =>
        TypedResults.Problem(
            $"transient failure, retry later: {exception.GetType().Name}", statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is larger.</summary>
    internal static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>((int)(request.ContentLength ?? 4096) + 1);
        while (true)
        {
            // No size hint: the buffer was sized from Content-Length, and a hint would double it for the last read.
            var memory = buffer.GetMemory();
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenMemory;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }
}
