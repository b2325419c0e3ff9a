using System.Runtime.ExceptionServices;
using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;
using PulseCart.Abstractions.Orders;
using PulseCart.Consumer.Delivery;

namespace PulseCart.Consumer.Routing;

/// <summary>The routing table of DESIGN.md: which grain hears which event. The rules live in the grains.</summary>
public sealed class EventRouter(IGrainFactory grains)
{
    private readonly GrainReferences<ICartGrain> _carts = new(grains);
    private readonly GrainReferences<IOrderGrain> _orders = new(grains);

    /// <summary>
    /// How many times a call Orleans rejected before any grain saw it is made. A placed order leaves memory at once, and a
    /// call that meets it leaving is forwarded to its next activation, at most twice; identical deliveries arriving
    /// through two silos at once can need a third way in. The grains dedup, so calling again is safe.
    /// </summary>
    public const int Attempts = 3;

    public async Task<EventOutcome> RouteAsync(IPulseCartEvent routed)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RouteOnceAsync(routed);
            }
            catch (OrleansMessageRejectionException) when (attempt < Attempts)
            {
                // Long enough for the leaving activation to unregister, so the next call finds a new one.
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt));
            }
        }
    }

    private Task<EventOutcome> RouteOnceAsync(IPulseCartEvent routed) => routed switch
    {
        CartUpdated updated => _carts.For(updated.CartId).CartUpdatedAsync(updated),
        CartAbandoned abandoned => _carts.For(abandoned.CartId).CartAbandonedAsync(abandoned),
        OrderPlaced placed => OrderPlacedAsync(placed),
        PaymentFailed failed => _orders.For(failed.OrderId).PaymentFailedAsync(failed),
        _ => throw new ArgumentOutOfRangeException(nameof(routed), routed.GetType().Name, "no route for this event"),
    };

    // Both grains dedup on their own, so when one call fails the retried delivery completes only the other.
    private async Task<EventOutcome> OrderPlacedAsync(OrderPlaced placed)
    {
        var order = _orders.For(placed.OrderId).OrderPlacedAsync(placed);
        if (placed.CartId is null)
        {
            return await order;
        }

        var cart = _carts.For(placed.CartId).OrderPlacedAsync(placed);
        EventOutcome[] outcomes;
        try
        {
            outcomes = await Task.WhenAll(order, cart);
        }
        catch when (order.IsFaulted && cart.IsFaulted
            && !TransientFailures.IsTransient(order.Exception!) && TransientFailures.IsTransient(cart.Exception!))
        {
            // Awaiting both throws the order's failure. When that one is for good (a refused confirmation) but the cart's
            // can pass on a retry, the retry is what the delivery needs: the cart is marked purchased, and the order's
            // refusal is quarantined then.
            ExceptionDispatchInfo.Throw(cart.Exception!.InnerException!);
            throw;
        }

        return outcomes.Contains(EventOutcome.Processed) ? EventOutcome.Processed
            : outcomes.All(outcome => outcome == EventOutcome.Duplicate) ? EventOutcome.Duplicate
            : EventOutcome.Stale;
    }
}

/// <summary>
/// References to the grains behind one interface. Orleans 10.4's <c>GetGrain&lt;T&gt;(key)</c> works out the interface's
/// and grain's type names on every call (attribute lookups and string formatting: about 1 KB and a few µs per event in
/// the allocation profile); they never change, so they are worked out once here.
/// </summary>
internal sealed class GrainReferences<TGrain> where TGrain : IGrainWithStringKey
{
    private readonly IGrainFactory _grains;
    private readonly GrainType _grainType;
    private readonly GrainInterfaceType _interfaceType;

    public GrainReferences(IGrainFactory grains)
    {
        var sample = (GrainReference)(object)grains.GetGrain<TGrain>("-");
        (_grains, _grainType, _interfaceType) = (grains, sample.GrainId.Type, sample.InterfaceType);
    }

    public TGrain For(string key) => (TGrain)_grains.GetGrain(GrainId.Create(_grainType, key), _interfaceType);
}
