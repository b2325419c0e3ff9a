using PulseCart.Abstractions.Events;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Messaging;

/// <summary>Idempotency keys of messages a grain has sent, recorded only after the sink accepted them.</summary>
[GenerateSerializer]
public sealed class SentMessageLog : IStoredKeySet
{
    /// <summary>
    /// Bound on keys of per-event messages (a payment retry per <c>payment.failed</c>, a reminder per abandonment),
    /// oldest forgotten first; it only guards against a flood of distinct events. Keys that stand for the grain itself
    /// (one <c>order_confirmation</c> per order) are never forgotten: forgetting one would let a new event id send it again.
    /// </summary>
    public const int MaxPerEventEntries = 1_000;

    [NonSerialized]
    private OldestFirst? _perEvent;

    [NonSerialized]
    private KeyChanges? _changes;

    [Id(0)]
    public Dictionary<string, DateTimeOffset> Sent { get; set; } = new(StringComparer.Ordinal);

    // Explicit, so that only the [Id] members are ever part of a serialized form.
    byte IStoredKeySet.Tag => (byte)'m';

    Dictionary<string, DateTimeOffset> IStoredKeySet.Entries => Sent;

    KeyChanges IStoredKeySet.Changes => Changes;

    private KeyChanges Changes => _changes ??= new();

    public bool Contains(string idempotencyKey) => Sent.ContainsKey(idempotencyKey);

    public void Record(string idempotencyKey, DateTimeOffset sentAt)
    {
        if (!Sent.TryAdd(idempotencyKey, sentAt))
        {
            return;
        }

        Changes.Add(idempotencyKey);
        if (!MessageTemplates.IsPerEventKey(idempotencyKey))
        {
            return;
        }

        _perEvent ??= new OldestFirst(Sent.Where(entry => MessageTemplates.IsPerEventKey(entry.Key) && entry.Key != idempotencyKey));
        _perEvent.Added(idempotencyKey, sentAt);
        _perEvent.Forget(this, MaxPerEventEntries, DateTimeOffset.MinValue);
    }

    public IReadOnlyList<SentMessageView> ToViews() =>
        Sent.OrderBy(entry => entry.Value).Select(entry => new SentMessageView(entry.Key, entry.Value)).ToList();
}
