namespace PulseCart.Consumer.Telemetry;

public sealed record RecentEvent(DateTimeOffset At, string? EventType, string? EventId, string Outcome);

public sealed record RecentMessage(DateTimeOffset At, string Template, string IdempotencyKey, string UserId, string Sink);

/// <summary>
/// The last few hundred deliveries and messages of this process, for the operator page. A window for eyes,
/// not a record: metrics count everything, grains hold the truth.
/// </summary>
public sealed class RecentActivity(TimeProvider time)
{
    public const int Capacity = 200;

    private readonly LinkedList<RecentEvent> _events = new();
    private readonly LinkedList<RecentMessage> _messages = new();
    private readonly Lock _lock = new();

    public void Event(string? eventType, string? eventId, string outcome) =>
        Add(_events, new RecentEvent(time.GetUtcNow(), eventType, eventId, outcome));

    public void Message(string template, string idempotencyKey, string userId, string sink) =>
        Add(_messages, new RecentMessage(time.GetUtcNow(), template, idempotencyKey, userId, sink));

    public IReadOnlyList<RecentEvent> Events()
    {
        lock (_lock)
        {
            return _events.ToList();
        }
    }

    public IReadOnlyList<RecentMessage> Messages()
    {
        lock (_lock)
        {
            return _messages.ToList();
        }
    }

    private void Add<T>(LinkedList<T> list, T item)
    {
        lock (_lock)
        {
            list.AddFirst(item);
            if (list.Count > Capacity)
            {
                list.RemoveLast();
            }
        }
    }
}
