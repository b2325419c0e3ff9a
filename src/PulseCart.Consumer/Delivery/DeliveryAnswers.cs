using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace PulseCart.Consumer.Delivery;

/// <summary>
/// How the push and task endpoints answer: 204 with the outcome (every outcome is an acknowledgement), 413 for a body
/// over the limit, 400 or 408 for a body the caller could not send, 503 only for a failure a retry can get past.
/// </summary>
public static class DeliveryAnswers
{
    public const string OutcomeHeader = "X-PulseCart-Outcome";

    public static async Task<Results<NoContent, ProblemHttpResult>> AnswerAsync<TState>(
        HttpContext http, int maxBodyBytes, TState state, Func<TState, ReadOnlyMemory<byte>, IHeaderDictionary, CancellationToken, Task<string>> handle,
        ILogger logger)
    {
        var cancellationToken = http.RequestAborted;
        ReadOnlyMemory<byte>? body;
        try
        {
            body = await ReadBodyAsync(http.Request, maxBodyBytes, cancellationToken);
        }
        catch (Exception exception) when (exception is BadHttpRequestException or IOException or OperationCanceledException)
        {
            // The caller's own doing (a body sent too slowly, a connection dropped): nothing of ours failed.
            logger.LogInformation("Request body could not be read: {Reason}", exception.Message);
            return TypedResults.Problem(
                $"request body could not be read: {exception.Message}",
                statusCode: exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest);
        }

        if (body is null)
        {
            return TypedResults.Problem($"request body exceeds {maxBodyBytes} bytes", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        try
        {
            http.Response.Headers[OutcomeHeader] = await handle(state, body.Value, http.Request.Headers, cancellationToken);
            return TypedResults.NoContent();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Handlers quarantine whatever is deterministic; what reaches here is a dependency that may come back.
            if (exception is RetryLaterException early)
            {
                logger.LogInformation("Delivery not acknowledged: {Reason}", early.Message);
                http.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(early.RetryAfter.TotalSeconds)).ToString();
            }
            else
            {
                logger.LogWarning(exception, "Delivery not acknowledged after a transient failure; it will be delivered again");
            }

            return RetryLater(exception);
        }
    }

    /// <summary>The answer to a transient failure: 503, so that Pub/Sub or Cloud Tasks delivers again later.</summary>
    public static ProblemHttpResult RetryLater(Exception exception) =>
        TypedResults.Problem(
            $"transient failure, retry later: {exception.GetType().Name}", statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is larger.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
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
