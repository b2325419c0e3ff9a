using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;
using PulseCart.Abstractions.Orders;

namespace PulseCart.Consumer.Routing;

/// <summary>The routing table of DESIGN.md: which grain hears which event. The rules live in the grains.</summary>
public sealed class EventRouter(IGrainFactory grains)
{
    public Task<EventOutcome> RouteAsync(IPulseCartEvent routed) => routed switch
    {
        CartUpdated updated => grains.GetGrain<ICartGrain>(updated.CartId).CartUpdatedAsync(updated),
        CartAbandoned abandoned => grains.GetGrain<ICartGrain>(abandoned.CartId).CartAbandonedAsync(abandoned),
        OrderPlaced placed => OrderPlacedAsync(placed),
        PaymentFailed failed => grains.GetGrain<IOrderGrain>(failed.OrderId).PaymentFailedAsync(failed),
        _ => throw new ArgumentOutOfRangeException(nameof(routed), routed.GetType().Name, "no route for this event"),
    };

    // Both grains dedup on their own, so when one call fails the retried delivery completes only the other.
    private async Task<EventOutcome> OrderPlacedAsync(OrderPlaced placed)
    {
        var order = grains.GetGrain<IOrderGrain>(placed.OrderId).OrderPlacedAsync(placed);
        if (placed.CartId is null)
        {
            return await order;
        }

        var cart = grains.GetGrain<ICartGrain>(placed.CartId).OrderPlacedAsync(placed);
        var outcomes = await Task.WhenAll(order, cart);
        return outcomes.Contains(EventOutcome.Processed) ? EventOutcome.Processed
            : outcomes.All(outcome => outcome == EventOutcome.Duplicate) ? EventOutcome.Duplicate
            : EventOutcome.Stale;
    }
}
