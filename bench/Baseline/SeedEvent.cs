using System.Globalization;
using System.Text.Json;

namespace PulseCart.Bench.Baseline;

/// <summary>The fields of the event contract the seed reads, from the wrapped envelope's base64 <c>message.data</c>.</summary>
public sealed record SeedEvent(
    string EventId, string EventType, string? UserId, string? OrderId, string? CartId, decimal? Total, string? Currency, DateTimeOffset? OccurredAt)
{
    public static SeedEvent? FromEnvelope(JsonElement root)
    {
        var data = root.GetProperty("message").GetProperty("data").GetBytesFromBase64();
        using var document = JsonDocument.Parse(data);
        var e = document.RootElement;
        var payload = e.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        var eventId = Text(e, "event_id");
        var eventType = Text(e, "event_type");
        if (eventId is null || eventType is null)
        {
            return null;
        }

        decimal? total = payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty("total", out var t)
            && t.ValueKind == JsonValueKind.Number ? t.GetDecimal() : null;
        DateTimeOffset? occurredAt = DateTimeOffset.TryParse(
            Text(e, "occurred_at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
        return new SeedEvent(
            eventId, eventType, Text(e, "user_id"), Text(payload, "order_id"), Text(payload, "cart_id"), total, Text(payload, "currency"), occurredAt);
    }

    /// <summary>The message the consumer sends for the same event, with the same idempotency key; none for cart events.</summary>
    public SeedMessage? ToMessage(DateTimeOffset now) => EventType switch
    {
        "order.placed" when OrderId is not null =>
            new SeedMessage($"order_confirmation:{OrderId}", "order_confirmation", UserId ?? "", EventId, OrderId, CartId, Total, Currency, now),
        "payment.failed" when OrderId is not null =>
            new SeedMessage($"payment_retry:{EventId}", "payment_retry", UserId ?? "", EventId, OrderId, CartId, Total, Currency, now),
        _ => null,
    };

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
