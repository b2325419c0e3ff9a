namespace PulseCart.Consumer.Telemetry;

public sealed record RecentEvent(DateTimeOffset At, string? EventType, string? EventId, string Outcome);

public sealed record RecentMessage(DateTimeOffset At, string Template, string IdempotencyKey, string UserId, string Sink);

/// <summary>
/// The last few hundred deliveries and messages of this process, for the operator page. A window for eyes,
/// not a record: metrics count everything, grains hold the truth. Written on every delivery, so without a lock.
/// </summary>
public sealed class RecentActivity(TimeProvider time)
{
    public const int Capacity = 200;

    private readonly Ring<RecentEvent> _events = new(Capacity);
    private readonly Ring<RecentMessage> _messages = new(Capacity);

    public void Event(string? eventType, string? eventId, string outcome) =>
        _events.Add(new RecentEvent(time.GetUtcNow(), eventType, eventId, outcome));

    public void Message(string template, string idempotencyKey, string userId, string sink) =>
        _messages.Add(new RecentMessage(time.GetUtcNow(), template, idempotencyKey, userId, sink));

    /// <summary>Newest first.</summary>
    public IReadOnlyList<RecentEvent> Events() => _events.NewestFirst();

    /// <summary>Newest first.</summary>
    public IReadOnlyList<RecentMessage> Messages() => _messages.NewestFirst();

    /// <summary>The last <c>capacity</c> items; a writer overtaking a reader can at worst show one item out of place.</summary>
    private sealed class Ring<T>(int capacity)
        where T : class
    {
        private readonly T?[] _slots = new T?[capacity];
        private long _written;

        public void Add(T item)
        {
            var slot = Interlocked.Increment(ref _written) - 1;
            Volatile.Write(ref _slots[slot % capacity], item);
        }

        public IReadOnlyList<T> NewestFirst()
        {
            var written = Interlocked.Read(ref _written);
            var items = new List<T>(capacity);
            for (var i = written - 1; i >= Math.Max(0, written - capacity); i--)
            {
                if (Volatile.Read(ref _slots[i % capacity]) is { } item)
                {
                    items.Add(item);
                }
            }

            return items;
        }
    }
}
