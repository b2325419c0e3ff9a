using System.Globalization;
using System.Text.Json;
using PulseCart.Abstractions.Events;

namespace PulseCart.Consumer.Events;

/// <summary>The event inside a Pub/Sub message, or the reason it cannot be used.</summary>
public sealed record ParsedEvent(string? EventId, string? EventType, IPulseCartEvent? Routed, string? Rejection)
{
    public bool IsUsable => Rejection is null;

    public static ParsedEvent Reject(string reason, string? eventId = null, string? eventType = null) =>
        new(eventId, eventType, null, reason);
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

    public static ParsedEvent Parse(ReadOnlyMemory<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException exception)
        {
            return ParsedEvent.Reject($"event is not valid JSON: {exception.Message}");
        }

        using (document)
        {
            return Parse(document.RootElement);
        }
    }

    private static ParsedEvent Parse(JsonElement root)
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

        if (!EventTypes.IsRouted(eventType!))
        {
            return new ParsedEvent(eventId, eventType, null, null);
        }

        if (!root.TryGetProperty("occurred_at", out var occurredAtElement)
            || occurredAtElement.ValueKind != JsonValueKind.String
            || !DateTimeOffset.TryParse(occurredAtElement.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var occurredAt))
        {
            return ParsedEvent.Reject("occurred_at is missing or not an RFC 3339 timestamp", eventId, eventType);
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

        if (text.Any(char.IsControl))
        {
            return "contains control characters";
        }

        if (HasLoneSurrogate(text))
        {
            return "is not valid Unicode text";
        }

        return text.Trim().Length != text.Length ? "has leading or trailing whitespace" : null;
    }

    private static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? $"\"{element.GetString()}\"" : element.GetRawText();

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

            if (ReadId(payload, "reason", out var reason, required: false) is { } badReason)
            {
                return (null, $"payload.{badReason}");
            }

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
