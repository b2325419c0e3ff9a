using System.Collections.Concurrent;
using PulseCart.Abstractions.Events;

namespace PulseCart.Consumer.Routing;

/// <summary>
/// Events this process has finished routing, so a redelivery is answered without a grain call. An id enters only after
/// every grain it concerns has durably recorded it, so answering "duplicate" from here never acknowledges undone work.
/// Bounded: the oldest are forgotten first, and a forgotten one still meets the grains' own dedup.
/// </summary>
public sealed class RecentlyRouted
{
    public const int Capacity = 200_000;

    private readonly ConcurrentDictionary<string, byte> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public bool Contains(IPulseCartEvent routed) => _keys.ContainsKey(Key(routed));

    public void Add(IPulseCartEvent routed)
    {
        var key = Key(routed);
        if (!_keys.TryAdd(key, 0))
        {
            return;
        }

        _order.Enqueue(key);
        while (_keys.Count > Capacity && _order.TryDequeue(out var oldest))
        {
            _keys.TryRemove(oldest, out _);
        }
    }

    // Keyed by the grains the event reaches as well as its id: an id reused for another cart is not a duplicate here.
    private static string Key(IPulseCartEvent routed) => routed switch
    {
        CartUpdated e => $"{e.EventId}\ncart\n{e.CartId}",
        CartAbandoned e => $"{e.EventId}\ncart\n{e.CartId}",
        OrderPlaced e => $"{e.EventId}\norder\n{e.OrderId}\n{e.CartId}",
        PaymentFailed e => $"{e.EventId}\norder\n{e.OrderId}",
        _ => $"{routed.EventId}\n{routed.GetType().Name}",
    };
}
