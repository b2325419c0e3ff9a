using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using PulseCart.Abstractions.Events;
using PulseCart.Consumer.Delivery;

namespace PulseCart.Consumer.Events;

/// <summary>The event inside a Pub/Sub message, or the reason it cannot be used.</summary>
public sealed record ParsedEvent(string? EventId, string? EventType, IPulseCartEvent? Routed, string? Rejection)
{
    public bool IsUsable => Rejection is null;

    public static ParsedEvent Reject(string reason, string? eventId = null, string? eventType = null) =>
        new(eventId, eventType, null, reason);
}

/// <summary>The <c>occurred_at</c> values accepted now: not older than the dedup window, not ahead by more than the clock skew.</summary>
public readonly record struct EventTimeWindow(DateTimeOffset Earliest, DateTimeOffset Latest)
{
    /// <summary>Accepts any time: for callers that judge no time, such as tests of the contract alone.</summary>
    public static readonly EventTimeWindow Any = new(DateTimeOffset.MinValue, DateTimeOffset.MaxValue);

    public string? Problem(DateTimeOffset occurredAt) =>
        occurredAt < Earliest ? $"occurred_at {occurredAt:O} is older than PulseCart:Events:MaxAge allows (earliest {Earliest:O})"
        : occurredAt > Latest ? $"occurred_at {occurredAt:O} is in the future beyond PulseCart:Events:ClockSkew (latest {Latest:O})"
        : null;
}

/// <summary>
/// Reads the PulseCart event contract (DESIGN.md). Anything that can never be processed, however often it is
/// retried, comes back as a rejection with a reason an operator can act on.
/// </summary>
public static class EventParser
{
    public const int MaxIdLength = 200;
    public const int MaxJsonDepth = 32;
    public const int SupportedVersion = 1;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = MaxJsonDepth,
        AllowDuplicateProperties = false,
    };

    public static ParsedEvent Parse(ReadOnlyMemory<byte> json, EventTimeWindow window)
    {
        // The JSON reader checks only the strings it decodes; the contract promises valid UTF-8 throughout.
        if (!Utf8.IsValid(json.Span))
        {
            return ParsedEvent.Reject("event is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException exception)
        {
            return ParsedEvent.Reject($"event is not valid JSON: {exception.Message}");
        }
        catch (InvalidOperationException)
        {
            // The duplicate-name check decodes every name and refuses an escaped lone surrogate.
            return ParsedEvent.Reject("event has a property name that is not valid Unicode text");
        }

        using (document)
        {
            try
            {
                return Parse(document.RootElement, window);
            }
            catch (InvalidOperationException)
            {
                // GetString refuses an escaped lone surrogate in any value this parser reads.
                return ParsedEvent.Reject("event has a value that is not valid Unicode text");
            }
        }
    }

    private static ParsedEvent Parse(JsonElement root, EventTimeWindow window)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return ParsedEvent.Reject($"event must be a JSON object, not {root.ValueKind}");
        }

        if (ReadId(root, "event_id", out var eventId) is { } badEventId)
        {
            return ParsedEvent.Reject(badEventId);
        }

        if (ReadId(root, "event_type", out var eventType) is { } badEventType)
        {
            return ParsedEvent.Reject(badEventType, eventId);
        }

        if (root.TryGetProperty("event_version", out var version)
            && !(version.ValueKind == JsonValueKind.Number && version.TryGetInt32(out var number) && number == SupportedVersion))
        {
            return ParsedEvent.Reject($"event_version {Describe(version)} is not supported (expected {SupportedVersion})", eventId, eventType);
        }

        // A routed type goes on as the shared constant, not as the string parsed from this event: RecentlyRouted keeps the
        // type of each delivery it remembers (200,000), and a string each held ~9 MB of the heap.
        if (EventTypes.Routed(eventType!) is not { } routedType)
        {
            return new ParsedEvent(eventId, eventType, null, null);
        }

        eventType = routedType;

        if (!root.TryGetProperty("occurred_at", out var occurredAtElement)
            || occurredAtElement.ValueKind != JsonValueKind.String
            || !Rfc3339.TryParse(occurredAtElement.GetString(), out var occurredAt))
        {
            return ParsedEvent.Reject("occurred_at is missing or not an RFC 3339 timestamp with an offset", eventId, eventType);
        }

        if (window.Problem(occurredAt) is { } outOfWindow)
        {
            return ParsedEvent.Reject(outOfWindow, eventId, eventType);
        }

        if (!root.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object)
        {
            return ParsedEvent.Reject("payload is missing or not an object", eventId, eventType);
        }

        var reader = new RoutedEventReader(root, payload, eventId!, occurredAt.ToUniversalTime());
        var (routed, rejection) = eventType switch
        {
            EventTypes.CartUpdated => reader.CartUpdated(),
            EventTypes.CartAbandoned => reader.CartAbandoned(),
            EventTypes.OrderPlaced => reader.OrderPlaced(),
            _ => reader.PaymentFailed(),
        };
        return new ParsedEvent(eventId, eventType, routed, rejection);
    }

    /// <summary>Ids become grain keys and task names: printable, bounded, never empty.</summary>
    internal static string? ReadId(JsonElement parent, string name, out string? value, bool required = true)
    {
        value = null;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return required ? $"{name} is missing" : null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            return $"{name} must be a string, not {element.ValueKind}";
        }

        string text;
        try
        {
            text = element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return $"{name} is not valid Unicode text";
        }

        if (IdProblem(text) is { } problem)
        {
            return $"{name} {problem}";
        }

        value = text;
        return null;
    }

    /// <summary>True for a string an event could carry as an id; ops routes and callbacks accept nothing else.</summary>
    public static bool IsUsableId(string? id) => id is not null && IdProblem(id) is null;

    private static string? IdProblem(string text)
    {
        if (text.Length == 0)
        {
            return "is empty";
        }

        if (text.Length > MaxIdLength)
        {
            return $"is longer than {MaxIdLength} characters";
        }

        if (InvisibleProblem(text) is { } invisible)
        {
            return invisible;
        }

        return text.Trim().Length != text.Length ? "has leading or trailing whitespace" : null;
    }

    /// <summary>
    /// Ids appear in logs, task names and the operator page: characters that render as nothing, reorder the text around
    /// them (U+202E) or break lines would let two different ids look alike, or one look like something else.
    /// </summary>
    private static string? InvisibleProblem(string text)
    {
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var consumed) != OperationStatus.Done)
            {
                return "is not valid Unicode text";
            }

            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.Control:
                    return "contains control characters";
                case UnicodeCategory.Format:
                case UnicodeCategory.LineSeparator:
                case UnicodeCategory.ParagraphSeparator:
                    return $"contains the invisible or layout character U+{rune.Value:X4}";
            }

            rest = rest[consumed..];
        }

        return null;
    }

    // The start of a value a reason quotes: enough to recognise it, however long it was sent.
    private static string Describe(JsonElement element) => ShownText.Cut(
        element.ValueKind == JsonValueKind.String ? $"\"{element.GetString()}\"" : element.GetRawText(), 64);

    private readonly struct RoutedEventReader(JsonElement root, JsonElement payload, string eventId, DateTimeOffset occurredAt)
    {
        public (IPulseCartEvent?, string?) CartUpdated()
        {
            if (ReadId(payload, "cart_id", out var cartId) is { } bad)
            {
                return (null, $"payload.{bad}");
            }

            if (ReadId(root, "user_id", out var userId, required: false) is { } badUser)
            {
                return (null, badUser);
            }

            return (new CartUpdated(eventId, occurredAt, cartId!, userId), null);
        }

        public (IPulseCartEvent?, string?) CartAbandoned()
        {
            if (ReadId(payload, "cart_id", out var cartId) is { } bad)
            {
                return (null, $"payload.{bad}");
            }

            if (ReadId(root, "user_id", out var userId) is { } badUser)
            {
                return (null, $"{badUser}: a reminder needs a recipient");
            }

            if (ReadMoney(out var total, out var currency) is { } badMoney)
            {
                return (null, badMoney);
            }

            return (new CartAbandoned(eventId, occurredAt, cartId!, userId!, total, currency), null);
        }

        public (IPulseCartEvent?, string?) OrderPlaced()
        {
            if (ReadId(payload, "order_id", out var orderId) is { } bad)
            {
                return (null, $"payload.{bad}");
            }

            // A "buy now" order has no cart; when cart_id is present it must be a usable id.
            if (ReadId(payload, "cart_id", out var cartId, required: false) is { } badCart)
            {
                return (null, $"payload.{badCart}");
            }

            if (ReadId(root, "user_id", out var userId) is { } badUser)
            {
                return (null, $"{badUser}: a confirmation needs a recipient");
            }

            if (ReadMoney(out var total, out var currency) is { } badMoney)
            {
                return (null, badMoney);
            }

            return (new OrderPlaced(eventId, occurredAt, orderId!, cartId, userId!, total, currency), null);
        }

        public (IPulseCartEvent?, string?) PaymentFailed()
        {
            if (ReadId(payload, "order_id", out var orderId) is { } bad)
            {
                return (null, $"payload.{bad}");
            }

            if (ReadId(root, "user_id", out var userId) is { } badUser)
            {
                return (null, $"{badUser}: a payment retry message needs a recipient");
            }

            // The gateway's free text, which no message or decision uses: one that is not a short plain string is
            // left out rather than cost the shopper the retry message.
            ReadId(payload, "reason", out var reason, required: false);

            return (new PaymentFailed(eventId, occurredAt, orderId!, userId!, reason), null);
        }

        private string? ReadMoney(out decimal? total, out string? currency)
        {
            total = null;
            currency = null;
            if (payload.TryGetProperty("total", out var totalElement) && totalElement.ValueKind != JsonValueKind.Null)
            {
                if (totalElement.ValueKind != JsonValueKind.Number || !totalElement.TryGetDecimal(out var amount) || amount < 0)
                {
                    return "payload.total must be a non-negative number";
                }

                total = amount;
            }

            if (ReadId(payload, "currency", out currency, required: false) is { } badCurrency)
            {
                return $"payload.{badCurrency}";
            }

            return null;
        }
    }
}
