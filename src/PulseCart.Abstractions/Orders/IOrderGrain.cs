using PulseCart.Abstractions.Events;

namespace PulseCart.Abstractions.Orders;

/// <summary>One order, keyed by <c>order_id</c>: processed event ids and the messages sent about it.</summary>
public interface IOrderGrain : IGrainWithStringKey
{
    /// <summary>Records the order and sends one <c>order_confirmation</c>, however often the event is delivered.</summary>
    Task<EventOutcome> OrderPlacedAsync(OrderPlaced orderPlaced);

    /// <summary>Sends one <c>payment_retry</c> message per distinct event.</summary>
    Task<EventOutcome> PaymentFailedAsync(PaymentFailed paymentFailed);

    /// <summary>Returns what the order knows, or <c>null</c> if no event for it was ever processed.</summary>
    Task<OrderView?> GetAsync();
}
