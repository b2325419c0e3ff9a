namespace PulseCart.Abstractions.Events;

/// <summary>The <c>event_type</c> values PulseCart services publish and this consumer routes.</summary>
public static class EventTypes
{
    public const string CartUpdated = "cart.updated";
    public const string CartAbandoned = "cart.abandoned";
    public const string OrderPlaced = "order.placed";
    public const string PaymentFailed = "payment.failed";

    public static bool IsRouted(string eventType) =>
        eventType is CartUpdated or CartAbandoned or OrderPlaced or PaymentFailed;
}
