namespace PulseCart.Grains.Persistence;

/// <summary>
/// Grain state that <see cref="PulseCartGrainStorage"/> keeps as a small record plus sets of time-stamped keys (event ids,
/// message keys) whose members are stored one by one, so that a write costs what changed and not everything the grain
/// remembers: a cart that handled 50,000 events writes one id per event, not 10,000.
/// </summary>
public interface IStoredState
{
    /// <summary>Writes every field but the key sets; the first byte is the record's format number.</summary>
    void WriteRecord(RecordWriter writer);

    /// <summary>Reads what <see cref="WriteRecord"/> wrote, in this format or an older one.</summary>
    void ReadRecord(ref RecordReader reader);

    /// <summary>The key sets, each with its own tag.</summary>
    IReadOnlyList<IStoredKeySet> KeySets { get; }
}

/// <summary>A set of keys with the time each was added, stored member by member; it tracks what changed since the last write.</summary>
public interface IStoredKeySet
{
    /// <summary>Tells this set's members from the other sets' in storage; unique within a state, never changed.</summary>
    byte Tag { get; }

    Dictionary<string, DateTimeOffset> Entries { get; }

    KeyChanges Changes { get; }
}

/// <summary>Keys added to and removed from a set since the last write began.</summary>
/// <remarks>Lists, not sets: between two writes there is usually one change, and every active grain keeps these.</remarks>
public sealed class KeyChanges
{
    /// <summary>Keys added since the last write began, each once; null until the first.</summary>
    public List<string>? Added { get; private set; }

    /// <summary>Keys removed since the last write began, each once; null until the first.</summary>
    public List<string>? Removed { get; private set; }

    /// <summary>
    /// True once a write that took changes failed: storage may hold them or not, so the next write stores the set whole.
    /// </summary>
    public bool Unsure { get; private set; }

    /// <summary>A key just added to the set (never one already in it).</summary>
    public void Add(string key)
    {
        (Added ??= []).Add(key);
        Removed?.Remove(key);
    }

    /// <summary>A key just removed from the set.</summary>
    public void Remove(string key)
    {
        // Added and removed since the last write began: storage never needs to hear of it.
        if (Added?.Remove(key) != true)
        {
            (Removed ??= []).Add(key);
        }
    }

    /// <summary>
    /// Nothing is pending: storage holds every change so far (a read), or a write has just taken them. What changes while
    /// that write is on its way is the next write's: a key it carries that is removed meanwhile is removed by the next.
    /// </summary>
    public void Clear()
    {
        Added?.Clear();
        Removed?.Clear();
        Unsure = false;
    }

    /// <summary>The write that took the changes did not succeed.</summary>
    public void Lost() => Unsure = true;
}

public static class KeySetCache
{
    /// <summary>A state's key sets as one list, built once per activation and again only if deserialisation replaced a set.</summary>
    public static IReadOnlyList<IStoredKeySet> Of(ref IStoredKeySet[]? cache, params ReadOnlySpan<IStoredKeySet> sets)
    {
        if (cache is { } cached && cached.AsSpan().SequenceEqual(sets))
        {
            return cached;
        }

        return cache = sets.ToArray();
    }
}
