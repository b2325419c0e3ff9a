using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace PulseCart.Consumer.Delivery;

/// <summary>
/// How the push and task endpoints answer: 204 with the outcome (every outcome is an acknowledgement), 413 for a body
/// over the limit, 400 or 408 for a body the caller could not send, 503 only for a failure a retry can get past,
/// 504 for a delivery still being handled after <paramref name="deadline"/>, and 429 for one that arrives while
/// <paramref name="maxInFlight"/> are being read or handled (its body unread, so what bodies hold stays bounded).
/// </summary>
/// <remarks>
/// The deadline is kept here rather than by ASP.NET Core's request-timeouts middleware, which links a token source and
/// a timer to every request and adds a layer to the pipeline (with the authentication middlewares skipped as well, see
/// <c>SecurityPolicies.RequireCaller</c>, a known redelivery costs a sixth less CPU). Nothing a handler awaits takes the
/// deadline as cancellation (grain calls and Redis have timeouts of their own), so a handler past it runs on, and only
/// the answer is given.
/// </remarks>
public sealed class DeliveryAnswers(ILogger logger, TimeSpan deadline, int maxInFlight)
{
    public const string OutcomeHeader = "X-PulseCart-Outcome";

    // Deliveries being read or handled, counted until their handling ends (after a 504 it goes on).
    private int _inFlight;

    /// <summary>
    /// Reads the body, lets <paramref name="handle"/> decide, and answers with the outcome <paramref name="name"/> gives
    /// it; the body's buffer is pooled.
    /// </summary>
    public async Task AnswerAsync<TOutcome>(
        HttpContext http,
        int maxBodyBytes,
        Func<ReadOnlyMemory<byte>, IHeaderDictionary, CancellationToken, Task<TOutcome>> handle,
        Func<TOutcome, string> name)
    {
        int inFlight;
        do
        {
            inFlight = Volatile.Read(ref _inFlight);
            if (inFlight >= maxInFlight)
            {
                http.Response.Headers.RetryAfter = "1";
                await Problem(http, $"{maxInFlight} deliveries are in progress already; retry later", StatusCodes.Status429TooManyRequests);
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _inFlight, inFlight + 1, inFlight) != inFlight);

        var cancellationToken = http.RequestAborted;
        byte[]? buffer = null;
        var handlingOutlivesAnswer = false;
        try
        {
            int length;
            try
            {
                (buffer, length) = await ReadBodyAsync(http.Request, maxBodyBytes, cancellationToken);
            }
            catch (Exception exception) when (exception is BadHttpRequestException or IOException or OperationCanceledException)
            {
                // The caller's own doing (a body sent too slowly, a connection dropped): nothing of ours failed.
                logger.LogInformation("Request body could not be read: {Reason}", exception.Message);
                await Problem(http, $"request body could not be read: {exception.Message}",
                    exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest);
                return;
            }

            if (length > maxBodyBytes)
            {
                await Problem(http, $"request body exceeds {maxBodyBytes} bytes", StatusCodes.Status413PayloadTooLarge);
                return;
            }

            TOutcome outcome;
            var handling = handle(buffer!.AsMemory(0, length), http.Request.Headers, cancellationToken);
            try
            {
                outcome = await handling.WaitAsync(deadline);
            }
            catch (TimeoutException) when (!handling.IsCompleted)
            {
                // The deadline passed (a handler that failed with a TimeoutException of its own is complete, and is
                // answered below like any failure). It still reads the body: the buffer goes back when it ends.
                var body = buffer;
                buffer = null;
                handlingOutlivesAnswer = true;
                _ = handling.ContinueWith(
                    static (_, state) =>
                    {
                        var (answers, pooled) = ((DeliveryAnswers, byte[]))state!;
                        ArrayPool<byte>.Shared.Return(pooled);
                        Interlocked.Decrement(ref answers._inFlight);
                    },
                    (this, body), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                logger.LogWarning("Delivery still being handled after {Deadline}; answered 504, and it goes on", deadline);
                http.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
                return;
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

                await RetryLater(exception).ExecuteAsync(http);
                return;
            }

            http.Response.StatusCode = StatusCodes.Status204NoContent;
            http.Response.Headers[OutcomeHeader] = name(outcome);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (!handlingOutlivesAnswer)
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    /// <summary>The answer to a transient failure: 503, so that Pub/Sub or Cloud Tasks delivers again later.</summary>
    public static ProblemHttpResult RetryLater(Exception exception) =>
        TypedResults.Problem(
            $"transient failure, retry later: {exception.GetType().Name}", statusCode: StatusCodes.Status503ServiceUnavailable);

    private static Task Problem(HttpContext http, string detail, int status) =>
        TypedResults.Problem(detail, statusCode: status).ExecuteAsync(http);

    /// <summary>
    /// Reads the body into a pooled buffer; a length over <paramref name="limit"/> means the body was larger (reading
    /// stops there). The caller returns the buffer.
    /// </summary>
    private static async Task<(byte[]? Buffer, int Length)> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, limit + 1);
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)(request.ContentLength ?? 4096) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0 || length + read > limit)
                {
                    return (buffer, length + read);
                }

                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
