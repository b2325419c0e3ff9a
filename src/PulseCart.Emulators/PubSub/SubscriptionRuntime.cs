namespace PulseCart.Emulators.PubSub;

/// <summary>A topic's live state. Guarded by the emulator's lock.</summary>
internal sealed class TopicRuntime(string name, IReadOnlyDictionary<string, string>? labels, string? messageRetentionDuration)
{
    public string Name { get; } = name;

    public IReadOnlyDictionary<string, string>? Labels { get; } = labels;

    public string? MessageRetentionDuration { get; } = messageRetentionDuration;

    /// <summary>Attached subscriptions, in creation order: each gets its own copy of every message published from then on.</summary>
    public List<SubscriptionRuntime> Subscriptions { get; } = [];

    /// <summary>The most recently published messages, oldest first, for listing.</summary>
    public Queue<EmulatedMessage> Retained { get; } = new();
}

/// <summary>One message waiting on one subscription, with its delivery count so far.</summary>
internal sealed class PendingPush(EmulatedMessage message, long sequence)
{
    public EmulatedMessage Message { get; } = message;

    /// <summary>Publish order on this subscription; breaks ties between messages due at the same time.</summary>
    public long Sequence { get; } = sequence;

    /// <summary>Deliveries made so far; the next push carries <c>deliveryAttempt</c> = this + 1.</summary>
    public int DeliveryAttempts { get; set; }

    public DateTimeOffset DueAt { get; set; }
}

/// <summary>
/// A push subscription's live state: messages ready to push (by due time), messages held back behind an earlier one with
/// the same ordering key, and how many pushes are out. Guarded by the emulator's lock.
/// </summary>
internal sealed class SubscriptionRuntime(SubscriptionSpec spec)
{
    private readonly PriorityQueue<PendingPush, (long DueTicks, long Sequence)> _ready = new();
    private readonly Dictionary<string, Queue<PendingPush>> _heldByOrderingKey = new(StringComparer.Ordinal);
    private readonly HashSet<string> _activeOrderingKeys = new(StringComparer.Ordinal);
    private long _sequence;

    public SubscriptionSpec Spec { get; } = spec;

    public string Id { get; } = PubSubNames.IdOf(spec.Name);

    public int InFlight { get; set; }

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
    public void Schedule(PendingPush pending) => _ready.Enqueue(pending, (pending.DueAt.UtcTicks, pending.Sequence));

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
}
