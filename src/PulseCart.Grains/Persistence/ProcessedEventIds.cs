namespace PulseCart.Grains.Persistence;

/// <summary>
/// The event ids a grain has handled within the dedup window. Pub/Sub redelivers for at most 7 days,
/// so ids older than the window are forgotten and the set stays bounded.
/// </summary>
[GenerateSerializer]
public sealed class ProcessedEventIds
{
    [Id(0)]
    public Dictionary<string, DateTimeOffset> Seen { get; set; } = new(StringComparer.Ordinal);

    public bool Contains(string eventId) => Seen.ContainsKey(eventId);

    public void Remember(string eventId, DateTimeOffset now, DedupOptions options)
    {
        Seen[eventId] = now;

        var forgetBefore = now - options.Window;
        foreach (var expired in Seen.Where(entry => entry.Value < forgetBefore).Select(entry => entry.Key).ToList())
        {
            Seen.Remove(expired);
        }

        if (Seen.Count > options.MaxEventIdsPerGrain)
        {
            foreach (var oldest in Seen.OrderBy(entry => entry.Value).Take(Seen.Count - options.MaxEventIdsPerGrain).ToList())
            {
                Seen.Remove(oldest.Key);
            }
        }
    }
}
