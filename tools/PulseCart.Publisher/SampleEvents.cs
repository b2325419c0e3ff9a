using System.Globalization;
using System.Text.Json.Nodes;

namespace PulseCart.Publisher;

/// <summary>Events that follow PulseCart's event contract (DESIGN.md), with fresh ids and <c>occurred_at</c> = now.</summary>
internal static class SampleEvents
{
    public static readonly IReadOnlyList<string> Types = ["order.placed", "cart.abandoned", "cart.updated", "payment.failed"];

    public static JsonObject Create(string eventType, PublisherArguments arguments, DateTimeOffset now)
    {
        var cartId = arguments.CartId ?? NewId("c");
        var orderId = arguments.OrderId ?? NewId("o");
        var payload = eventType switch
        {
            "order.placed" => new JsonObject { ["order_id"] = orderId, ["cart_id"] = cartId, ["total"] = 59.97, ["currency"] = "EUR" },
            "cart.abandoned" => new JsonObject { ["cart_id"] = cartId, ["total"] = 59.97, ["currency"] = "EUR" },
            "cart.updated" => new JsonObject { ["cart_id"] = cartId },
            "payment.failed" => new JsonObject { ["order_id"] = orderId, ["reason"] = "card_declined" },
            _ => throw new ArgumentOutOfRangeException(nameof(eventType), eventType, "not a sample event type"),
        };

        return new JsonObject
        {
            ["event_id"] = Guid.NewGuid().ToString("N"),
            ["event_type"] = eventType,
            ["event_version"] = 1,
            ["occurred_at"] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["source"] = "pulsecart-publisher",
            ["user_id"] = arguments.UserId ?? NewId("u"),
            ["payload"] = payload,
        };
    }

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}";
}
