namespace PulseCart.Abstractions.Events;

/// <summary>The <c>event_type</c> values PulseCart services publish and this consumer routes.</summary>
public static class EventTypes
{
    public const string CartUpdated = "cart.updated";
    public const string CartAbandoned = "cart.abandoned";
    public const string OrderPlaced = "order.placed";
    public const string PaymentFailed = "payment.failed";

    /// <summary>The constant for a routed type (the same text), or null for any other.</summary>
    public static string? Routed(string eventType) => eventType switch
    {
        CartUpdated => CartUpdated,
        CartAbandoned => CartAbandoned,
        OrderPlaced => OrderPlaced,
        PaymentFailed => PaymentFailed,
        _ => null,
    };
}
