using PulseCart.Abstractions.Events;

namespace PulseCart.Abstractions.Carts;

/// <summary>One shopping cart, keyed by <c>cart_id</c>: its status, processed event ids and abandonment reminder.</summary>
public interface ICartGrain : IGrainWithStringKey
{
    /// <summary>Records activity on the cart; a pending reminder for an older abandonment becomes moot.</summary>
    Task<EventOutcome> CartUpdatedAsync(CartUpdated cartUpdated);

    /// <summary>Marks the cart abandoned and schedules a reminder, unless newer activity or a purchase is known.</summary>
    Task<EventOutcome> CartAbandonedAsync(CartAbandoned cartAbandoned);

    /// <summary>Marks the cart purchased; a pending reminder is skipped.</summary>
    Task<EventOutcome> OrderPlacedAsync(OrderPlaced orderPlaced);

    /// <summary>
    /// Called back when a reminder falls due: re-checks the cart and sends the reminder only if the same
    /// abandonment still stands. On the last allowed attempt a failed send dead-letters the reminder instead of throwing.
    /// </summary>
    Task<ReminderResult> RemindAsync(ReminderDue due);

    /// <summary>Returns what the cart knows, or <c>null</c> if no event for it was ever processed.</summary>
    Task<CartView?> GetAsync();
}
