using PulseCart.Abstractions.Events;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Messaging;

/// <summary>Idempotency keys of messages a grain has sent, recorded only after the sink accepted them.</summary>
[GenerateSerializer]
public sealed class SentMessageLog
{
    /// <summary>
    /// Bound on keys of per-event messages (a payment retry per <c>payment.failed</c>, a reminder per abandonment),
    /// oldest forgotten first; it only guards against a flood of distinct events. Keys that stand for the grain itself
    /// (one <c>order_confirmation</c> per order) are never forgotten: forgetting one would let a new event id send it again.
    /// </summary>
    public const int MaxPerEventEntries = 1_000;

    [NonSerialized]
    private OldestFirst? _perEvent;

    [Id(0)]
    public Dictionary<string, DateTimeOffset> Sent { get; set; } = new(StringComparer.Ordinal);

    public bool Contains(string idempotencyKey) => Sent.ContainsKey(idempotencyKey);

    public void Record(string idempotencyKey, DateTimeOffset sentAt)
    {
        if (!Sent.TryAdd(idempotencyKey, sentAt) || !MessageTemplates.IsPerEventKey(idempotencyKey))
        {
            return;
        }

        _perEvent ??= new OldestFirst(Sent.Where(entry => MessageTemplates.IsPerEventKey(entry.Key) && entry.Key != idempotencyKey));
        _perEvent.Added(idempotencyKey, sentAt);
        _perEvent.Forget(Sent, MaxPerEventEntries, DateTimeOffset.MinValue);
    }

    public IReadOnlyList<SentMessageView> ToViews() =>
        Sent.OrderBy(entry => entry.Value).Select(entry => new SentMessageView(entry.Key, entry.Value)).ToList();
}
