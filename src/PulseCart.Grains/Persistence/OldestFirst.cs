namespace PulseCart.Grains.Persistence;

/// <summary>
/// The keys of a time-stamped dictionary in the order they were added, so the oldest can be forgotten without scanning
/// or sorting the rest: O(1) amortised per key. Not persisted: rebuilt (one sort) the first time an activation needs it.
/// </summary>
internal sealed class OldestFirst
{
    private readonly Queue<KeyValuePair<string, DateTimeOffset>> _order;

    public OldestFirst(IEnumerable<KeyValuePair<string, DateTimeOffset>> existing)
    {
        _order = new Queue<KeyValuePair<string, DateTimeOffset>>(existing.OrderBy(entry => entry.Value));
        Count = _order.Count;
    }

    /// <summary>How many of the keys this tracks are still in the dictionary.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Tracks a key just added to the dictionary (never one already there). Times may run back by up to the clock skew
    /// (an event dated ahead is remembered from its own time): a key behind a later one is then forgotten a little late,
    /// never early.
    /// </summary>
    public void Added(string key, DateTimeOffset at)
    {
        _order.Enqueue(new(key, at));
        Count++;
    }

    /// <summary>Removes the oldest tracked keys from <paramref name="set"/> while there are more than
    /// <paramref name="maxCount"/> or they are older than <paramref name="forgetBefore"/>.</summary>
    public void Forget(IStoredKeySet set, int maxCount, DateTimeOffset forgetBefore)
    {
        while (_order.TryPeek(out var oldest) && (Count > maxCount || oldest.Value < forgetBefore))
        {
            _order.Dequeue();
            if (set.Entries.Remove(oldest.Key))
            {
                set.Changes.Remove(oldest.Key);
                Count--;
            }
        }
    }
}
