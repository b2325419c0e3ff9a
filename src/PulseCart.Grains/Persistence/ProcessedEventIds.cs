namespace PulseCart.Grains.Persistence;

/// <summary>
/// The event ids a grain has handled within the dedup window. Pub/Sub redelivers for at most 7 days,
/// so ids older than the window are forgotten and the set stays bounded.
/// </summary>
[GenerateSerializer]
public sealed class ProcessedEventIds : IStoredKeySet
{
    [NonSerialized]
    private OldestFirst? _oldestFirst;

    [NonSerialized]
    private KeyChanges? _changes;

    // The earliest time in Seen while _oldestFirst is not built; null until first needed.
    [NonSerialized]
    private DateTimeOffset? _oldest;

    [Id(0)]
    public Dictionary<string, DateTimeOffset> Seen { get; set; } = new(StringComparer.Ordinal);

    // Explicit, so that only the [Id] members are ever part of a serialized form.
    byte IStoredKeySet.Tag => (byte)'e';

    Dictionary<string, DateTimeOffset> IStoredKeySet.Entries => Seen;

    KeyChanges IStoredKeySet.Changes => Changes;

    private KeyChanges Changes => _changes ??= new();

    public bool Contains(string eventId) => Seen.ContainsKey(eventId);

    /// <summary>
    /// Remembers a newly handled id and forgets what the window and the bound no longer cover. An event dated ahead of
    /// <paramref name="now"/> (within the clock skew) stays acceptable for the window counted from its own time, so its
    /// id is remembered from that time.
    /// </summary>
    public void Remember(string eventId, DateTimeOffset now, DedupOptions options, DateTimeOffset occurredAt = default)
    {
        var rememberedAt = occurredAt > now ? occurredAt : now;
        if (Seen.TryAdd(eventId, rememberedAt))
        {
            _oldestFirst?.Added(eventId, rememberedAt);
            Changes.Add(eventId);
            if (rememberedAt < _oldest)
            {
                _oldest = rememberedAt;
            }
        }

        var forgetBefore = now - options.Window;
        if (_oldestFirst is null)
        {
            // Most grains live minutes and never forget an id: the ordered copy of their ids is built only once one is due.
            _oldest ??= Seen.Values.Min();
            if (Seen.Count <= options.MaxEventIdsPerGrain && _oldest >= forgetBefore)
            {
                return;
            }

            _oldestFirst = new OldestFirst(Seen);
        }

        _oldestFirst.Forget(this, options.MaxEventIdsPerGrain, forgetBefore);
    }
}
