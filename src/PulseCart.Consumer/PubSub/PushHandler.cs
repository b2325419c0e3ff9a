using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PulseCart.Abstractions.Events;
using PulseCart.Consumer.Delivery;
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

/// <summary>What became of one delivery; <see cref="Reason"/> says why it could not be used.</summary>
public readonly record struct PushResult(PushOutcome Outcome, string? Reason = null)
{
    private static readonly string[] Names = ["processed", "duplicate", "stale", "ignored", "quarantined"];

    /// <summary>The outcome as the <c>X-PulseCart-Outcome</c> header and the metrics name it.</summary>
    public string Name => Names[(int)Outcome];
}

/// <summary>
/// One push delivery from body to acknowledgement: decode, parse, then route to grains or keep in the
/// quarantine. Throws on transient failure so that nothing is acknowledged that was not done; any other failure is
/// deterministic, so the delivery is quarantined with the exception as its reason instead of being retried forever.
/// </summary>
public sealed partial class PushHandler(
    EventRouter router,
    RecentlyRouted recentlyRouted,
    IOptions<PushOptions> options,
    EventClock clock,
    IQuarantine quarantine,
    ConsumerMetrics metrics,
    RecentActivity recent,
    TimeProvider time,
    ILogger<PushHandler> logger)
{
    public Task<PushResult> HandleAsync(ReadOnlyMemory<byte> body, IHeaderDictionary headers, CancellationToken cancellationToken) =>
        HandleAsync(body, headers, quarantineUnusable: true, cancellationToken);

    /// <summary>
    /// An operator's replay of a quarantined delivery: the same decoding, routing and dedup as a push, except that a
    /// delivery still unusable is reported, not quarantined a second time. <paramref name="signature"/> is the signature
    /// header an unwrapped push came with.
    /// </summary>
    public Task<PushResult> ReplayAsync(ReadOnlyMemory<byte> body, string? signature, CancellationToken cancellationToken)
    {
        var headers = new HeaderDictionary();
        if (signature is not null)
        {
            headers[options.Value.SignatureAttribute] = signature;
        }

        return HandleAsync(body, headers, quarantineUnusable: false, cancellationToken);
    }

    private async Task<PushResult> HandleAsync(
        ReadOnlyMemory<byte> body, IHeaderDictionary headers, bool quarantineUnusable, CancellationToken cancellationToken)
    {
        using var activity = ConsumerMetrics.Traces.StartActivity("pulsecart.push");
        var started = Stopwatch.GetTimestamp();
        string? eventType = null;
        string? eventId = null;
        var outcome = "failed";
        string? messageId = null, subscription = null, signature = null;
        try
        {
            var decoded = PushDecoder.Decode(body, headers, recentlyRouted);
            (messageId, subscription) = (decoded.MessageId, decoded.Subscription);
            activity?.SetTag("messaging.message.id", decoded.MessageId);

            // A redelivery of data already routed in full: answered before decoding the event or calling a grain.
            if (decoded.RoutedBefore is { } routedType)
            {
                eventType = routedType;
                outcome = "duplicate";
                return new PushResult(PushOutcome.Duplicate);
            }

            // Read before any await: a delivery past its deadline is answered 504 and handled on, and by then the
            // connection's headers may be its next request's.
            signature = headers[options.Value.SignatureAttribute].ToString();

            var rejection = decoded.Rejection ?? (decoded.Message is null ? null : SignatureProblem(decoded.Message, headers));
            ParsedEvent? parsed = null;
            if (rejection is null)
            {
                parsed = EventParser.Parse(decoded.Message!.Data, clock.Window());
                (eventType, eventId, rejection) = (parsed.EventType, parsed.EventId, parsed.Rejection);
                activity?.SetTag("pulsecart.event_type", eventType);
                activity?.SetTag("pulsecart.event_id", eventId);
            }

            if (rejection is not null)
            {
                if (quarantineUnusable)
                {
                    await QuarantineAsync(body, signature, rejection, decoded.MessageId, decoded.Subscription, eventId, eventType, cancellationToken);
                }

                outcome = "quarantined";
                return new PushResult(PushOutcome.Quarantined, rejection);
            }

            if (parsed!.Routed is null)
            {
                logger.LogInformation(
                    "Event {EventId} of type {EventType} has no route; acknowledged (message {MessageId})",
                    eventId, eventType, decoded.MessageId);
                outcome = "ignored";
                return new PushResult(PushOutcome.Ignored);
            }

            var result = new PushResult(await router.RouteAsync(parsed.Routed) switch
            {
                EventOutcome.Processed => PushOutcome.Processed,
                EventOutcome.Duplicate => PushOutcome.Duplicate,
                _ => PushOutcome.Stale,
            });
            recentlyRouted.Add(decoded.Fingerprint, eventType!);
            outcome = result.Name;
            if (result.Outcome == PushOutcome.Processed && eventType == EventTypes.CartAbandoned)
            {
                metrics.Reminder("scheduled");
            }

            LogRouted(logger, eventId, eventType, outcome);
            return result;
        }
        catch (Exception exception) when (!TransientFailures.IsTransient(exception))
        {
            var reason = $"failed deterministically, so a retry would fail again: {exception.GetType().Name}: {exception.Message}";
            logger.LogWarning(exception, "Event {EventId} ({EventType}) cannot be processed: {Reason}", eventId, eventType, reason);
            if (quarantineUnusable)
            {
                // Without a signature read, the failure came before any await: the headers are still this request's.
                signature ??= headers[options.Value.SignatureAttribute].ToString();
                await QuarantineAsync(body, signature, reason, messageId, subscription, eventId, eventType, cancellationToken);
            }

            outcome = "quarantined";
            return new PushResult(PushOutcome.Quarantined, reason);
        }
        finally
        {
            activity?.SetTag("pulsecart.outcome", outcome);
            metrics.PushReceived(eventType, outcome, Stopwatch.GetElapsedTime(started));
            recent.Event(eventType, eventId, outcome);
        }
    }

    private async Task QuarantineAsync(
        ReadOnlyMemory<byte> body, string signature, string reason, string? messageId, string? subscription, string? eventId,
        string? eventType, CancellationToken cancellationToken)
    {
        var entry = QuarantineEntry.Create(time.GetUtcNow(), "push", reason, messageId, subscription, eventId, eventType, body.Span)
            with { Signature = signature.Length > 0 ? ShownText.Cut(signature, ShownText.MaxNameChars) : null };

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

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.SignatureSecret), message.Data.Span);
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

    // Generated: no argument array on every push when Debug is off.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} ({EventType}) {Outcome}")]
    private static partial void LogRouted(ILogger logger, string? eventId, string? eventType, string outcome);
}
