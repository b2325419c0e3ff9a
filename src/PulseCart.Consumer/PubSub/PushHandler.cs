using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Abstractions.Events;
using PulseCart.Consumer.Events;
using PulseCart.Consumer.Quarantine;
using PulseCart.Consumer.Routing;
using PulseCart.Consumer.Telemetry;

namespace PulseCart.Consumer.PubSub;

/// <summary>Every way a push delivery is acknowledged. Anything else is an exception and a 5xx.</summary>
public enum PushOutcome
{
    Processed,
    Duplicate,
    Stale,
    Ignored,
    Quarantined,
}

/// <summary>
/// One push delivery from body to acknowledgement: decode, parse, then route to grains or keep in the
/// quarantine. Throws on transient failure so that nothing is acknowledged that was not done.
/// </summary>
public sealed class PushHandler(
    EventRouter router,
    IOptions<PushOptions> options,
    IQuarantine quarantine,
    PushMetrics metrics,
    TimeProvider time,
    ILogger<PushHandler> logger)
{
    public async Task<PushOutcome> HandleAsync(ReadOnlyMemory<byte> body, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        string? eventType = null;
        var outcome = "failed";
        try
        {
            var decoded = PushDecoder.Decode(body, headers);
            if (decoded.Message is null)
            {
                await QuarantineAsync(body, decoded.Rejection!, decoded.MessageId, decoded.Subscription, null, null, cancellationToken);
                outcome = "quarantined";
                return PushOutcome.Quarantined;
            }

            if (SignatureProblem(decoded.Message, headers) is { } signatureProblem)
            {
                await QuarantineAsync(body, signatureProblem, decoded.MessageId, decoded.Subscription, null, null, cancellationToken);
                outcome = "quarantined";
                return PushOutcome.Quarantined;
            }

            var parsed = EventParser.Parse(decoded.Message.Data);
            eventType = parsed.EventType;
            if (!parsed.IsUsable)
            {
                await QuarantineAsync(body, parsed.Rejection!, decoded.MessageId, decoded.Subscription, parsed.EventId, parsed.EventType, cancellationToken);
                outcome = "quarantined";
                return PushOutcome.Quarantined;
            }

            if (parsed.Routed is null)
            {
                logger.LogInformation(
                    "Event {EventId} of type {EventType} has no route; acknowledged (message {MessageId})",
                    parsed.EventId, parsed.EventType, decoded.MessageId);
                outcome = "ignored";
                return PushOutcome.Ignored;
            }

            var result = await router.RouteAsync(parsed.Routed) switch
            {
                EventOutcome.Processed => PushOutcome.Processed,
                EventOutcome.Duplicate => PushOutcome.Duplicate,
                _ => PushOutcome.Stale,
            };
            outcome = result.ToString().ToLowerInvariant();
            logger.LogDebug("Event {EventId} ({EventType}) {Outcome}", parsed.EventId, eventType, outcome);
            return result;
        }
        finally
        {
            metrics.Record(eventType, outcome, Stopwatch.GetElapsedTime(started));
        }
    }

    private async Task QuarantineAsync(
        ReadOnlyMemory<byte> body, string reason, string? messageId, string? subscription, string? eventId, string? eventType,
        CancellationToken cancellationToken)
    {
        var (raw, encoding) = RawBody(body);
        var entry = new QuarantineEntry(
            Guid.CreateVersion7().ToString("N"), time.GetUtcNow(), "push", reason, messageId, subscription, eventId, eventType, raw, encoding);

        // Kept before it is acknowledged: if the quarantine cannot take it, the exception makes Pub/Sub retry.
        await quarantine.AddAsync(entry, cancellationToken);
        logger.LogWarning(
            "Quarantined message {MessageId} (event {EventId}, type {EventType}) as {QuarantineId}: {Reason}",
            messageId, eventId, eventType, entry.Id, reason);
    }

    private string? SignatureProblem(PushMessage message, IHeaderDictionary headers)
    {
        if (string.IsNullOrEmpty(options.Value.SignatureSecret))
        {
            return null;
        }

        var attribute = options.Value.SignatureAttribute;
        var signature = message.Attributes.GetValueOrDefault(attribute) ?? headers[attribute].ToString();
        if (string.IsNullOrEmpty(signature))
        {
            return $"message signature missing (attribute {attribute})";
        }

        var expected = HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(options.Value.SignatureSecret), message.Data.Span);
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return "message signature is not hex";
        }

        return CryptographicOperations.FixedTimeEquals(expected, given) ? null : "message signature does not match";
    }

    private static (string Raw, string Encoding) RawBody(ReadOnlyMemory<byte> body)
    {
        try
        {
            return (new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body.Span), "utf-8");
        }
        catch (DecoderFallbackException)
        {
            return (Convert.ToBase64String(body.Span), "base64");
        }
    }
}
