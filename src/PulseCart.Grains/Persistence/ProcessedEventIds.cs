namespace PulseCart.Grains.Persistence;

/// <summary>
/// The event ids a grain has handled within the dedup window. Pub/Sub redelivers for at most 7 days,
/// so ids older than the window are forgotten and the set stays bounded.
/// </summary>
[GenerateSerializer]
public sealed class ProcessedEventIds
{
    [NonSerialized]
    private OldestFirst? _oldestFirst;

    [Id(0)]
    public Dictionary<string, DateTimeOffset> Seen { get; set; } = new(StringComparer.Ordinal);

    public bool Contains(string eventId) => Seen.ContainsKey(eventId);

    /// <summary>Remembers a newly handled id and forgets what the window and the bound no longer cover.</summary>
    public void Remember(string eventId, DateTimeOffset now, DedupOptions options)
    {
        _oldestFirst ??= new OldestFirst(Seen);
        if (Seen.TryAdd(eventId, now))
        {
            _oldestFirst.Added(eventId, now);
        }

        _oldestFirst.Forget(Seen, options.MaxEventIdsPerGrain, now - options.Window);
    }
}
