using PulseCart.Abstractions.Events;

namespace PulseCart.Grains.Messaging;

/// <summary>Idempotency keys of messages a grain has sent, recorded only after the sink accepted them.</summary>
[GenerateSerializer]
public sealed class SentMessageLog
{
    // A cart or order sends a handful of messages; the cap only guards against a flood of distinct events.
    public const int MaxEntries = 1_000;

    [Id(0)]
    public Dictionary<string, DateTimeOffset> Sent { get; set; } = new(StringComparer.Ordinal);

    public bool Contains(string idempotencyKey) => Sent.ContainsKey(idempotencyKey);

    public void Record(string idempotencyKey, DateTimeOffset sentAt)
    {
        Sent[idempotencyKey] = sentAt;
        if (Sent.Count > MaxEntries)
        {
            foreach (var oldest in Sent.OrderBy(entry => entry.Value).Take(Sent.Count - MaxEntries).ToList())
            {
                Sent.Remove(oldest.Key);
            }
        }
    }

    public IReadOnlyList<SentMessageView> ToViews() =>
        Sent.OrderBy(entry => entry.Value).Select(entry => new SentMessageView(entry.Key, entry.Value)).ToList();
}
