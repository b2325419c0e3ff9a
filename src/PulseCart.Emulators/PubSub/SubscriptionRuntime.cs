using PulseCart.Emulators.Dispatching;
using PulseCart.GoogleApis.PubSub.V1;

namespace PulseCart.Emulators.PubSub;

/// <summary>A topic's live state. Guarded by the emulator's lock.</summary>
internal sealed class TopicRuntime(Topic resource)
{
    public string Name => Resource.Name;

    /// <summary>The topic as its last create or update left it.</summary>
    public Topic Resource { get; set; } = resource;

    /// <summary>Attached subscriptions, in creation order: each gets its own copy of every message published from then on.</summary>
    public List<SubscriptionRuntime> Subscriptions { get; } = [];

    /// <summary>The most recently published messages, oldest first, for listing.</summary>
    public Queue<EmulatedMessage> Retained { get; } = new();

    /// <summary>The data bytes of <see cref="Retained"/>.</summary>
    public long RetainedBytes { get; set; }
}

/// <summary>One message waiting on one subscription, with its delivery count so far.</summary>
internal sealed class PendingPush(EmulatedMessage message, long sequence)
{
    public EmulatedMessage Message { get; } = message;

    /// <summary>Publish order on this subscription; breaks ties between messages due at the same time.</summary>
    public long Sequence { get; } = sequence;

    /// <summary>Deliveries made so far; the next push carries <c>deliveryAttempt</c> = this + 1 (a pull counts at delivery).</summary>
    public int DeliveryAttempts { get; set; }

    public DateTimeOffset DueAt { get; set; }
}

/// <summary>
/// A subscription's live state: messages ready to deliver (by due time), messages held back behind an earlier one with
/// the same ordering key, how many pushes are out, and the leases of pulled messages by ack id. Its settings can change
/// (update, modifyPushConfig) while messages wait. Guarded by the emulator's lock.
/// </summary>
internal sealed class SubscriptionRuntime(SubscriptionSpec spec)
{
    private readonly PriorityQueue<PendingPush, (long DueTicks, long Sequence)> _ready = new();
    private readonly Dictionary<string, Queue<PendingPush>> _heldByOrderingKey = new(StringComparer.Ordinal);
    private readonly HashSet<string> _activeOrderingKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LeasedMessage> _leases = new(StringComparer.Ordinal);
    private long _sequence;

    public SubscriptionSpec Spec { get; set; } = spec;

    public string Id { get; } = PubSubNames.IdOf(spec.Name);

    public int InFlight { get; set; }

    /// <summary>Set once the subscription is deleted: pushes still out are settled without effect.</summary>
    public bool Deleted { get; set; }

    /// <summary>Set whenever a message may have become ready to pull; pullers wait on it.</summary>
    public WakeSignal Ready { get; } = new();

    public bool HasBacklog => _ready.Count > 0 || _heldByOrderingKey.Count > 0;

    public void Enqueue(EmulatedMessage message, DateTimeOffset now)
    {
        var pending = new PendingPush(message, _sequence++) { DueAt = now };
        if (OrderingKeyOf(pending) is { } key && !_activeOrderingKeys.Add(key))
        {
            if (!_heldByOrderingKey.TryGetValue(key, out var held))
            {
                _heldByOrderingKey[key] = held = new Queue<PendingPush>();
            }

            held.Enqueue(pending);
            return;
        }

        Schedule(pending);
    }

    /// <summary>Puts a nacked message back, due at <see cref="PendingPush.DueAt"/>; it keeps its place in its ordering key.</summary>
    public void Schedule(PendingPush pending)
    {
        _ready.Enqueue(pending, (pending.DueAt.UtcTicks, pending.Sequence));
        Ready.Set();
    }

    public bool TryTakeDue(DateTimeOffset now, out PendingPush pending)
    {
        if (_ready.TryPeek(out _, out var priority) && priority.DueTicks <= now.UtcTicks)
        {
            pending = _ready.Dequeue();
            return true;
        }

        pending = null!;
        return false;
    }

    public DateTimeOffset? NextDue => _ready.TryPeek(out var next, out _) ? next.DueAt : null;

    /// <summary>The earliest time a pulled message's lease runs out, if any is out.</summary>
    public DateTimeOffset? NextLeaseExpiry => _leases.Count == 0 ? null : _leases.Values.Min(lease => lease.Deadline);

    /// <summary>Hands <paramref name="pending"/> to a puller until <paramref name="deadline"/>; returns its ack id.</summary>
    public string Lease(PendingPush pending, DateTimeOffset deadline, long ackSequence)
    {
        var ackId = $"{Id}-{ackSequence}";
        _leases[ackId] = new LeasedMessage(pending, deadline);
        return ackId;
    }

    public bool TryRelease(string ackId, out PendingPush pending)
    {
        if (_leases.Remove(ackId, out var lease))
        {
            pending = lease.Message;
            return true;
        }

        pending = null!;
        return false;
    }

    public bool TryExtend(string ackId, DateTimeOffset deadline)
    {
        if (!_leases.TryGetValue(ackId, out var lease))
        {
            return false;
        }

        _leases[ackId] = lease with { Deadline = deadline };
        return true;
    }

    public bool IsLeased(string ackId) => _leases.ContainsKey(ackId);

    /// <summary>Takes back every lease that ran out by <paramref name="now"/>: each is a nack.</summary>
    public IReadOnlyList<PendingPush> TakeExpiredLeases(DateTimeOffset now)
    {
        var expired = _leases.Where(lease => lease.Value.Deadline <= now).ToList();
        foreach (var (ackId, _) in expired)
        {
            _leases.Remove(ackId);
        }

        return [.. expired.Select(lease => lease.Value.Message)];
    }

    /// <summary>The message is done here (acked, dead-lettered or expired): the next one with its ordering key may go.</summary>
    public void Finish(PendingPush pending, DateTimeOffset now)
    {
        if (OrderingKeyOf(pending) is not { } key)
        {
            return;
        }

        if (_heldByOrderingKey.TryGetValue(key, out var held) && held.TryDequeue(out var following))
        {
            if (held.Count == 0)
            {
                _heldByOrderingKey.Remove(key);
            }

            following.DueAt = now;
            Schedule(following);
            return;
        }

        _activeOrderingKeys.Remove(key);
    }

    private string? OrderingKeyOf(PendingPush pending) =>
        Spec.EnableMessageOrdering && !string.IsNullOrEmpty(pending.Message.OrderingKey) ? pending.Message.OrderingKey : null;

    private sealed record LeasedMessage(PendingPush Message, DateTimeOffset Deadline);
}
