using System.Collections.Concurrent;
using PulseCart.Emulators.Dispatching;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>
/// A queue's live state: its current settings (replaced as a whole when the queue is updated, so a dispatch reads one
/// consistent set), whether it is paused, the tasks being dispatched and the dispatch loop's parking spot.
/// </summary>
internal sealed class QueueRuntime : IParkable
{
    private long _parkedUntilTicks;
    private volatile bool _parked;
    private volatile QueueSettings _settings;

    public QueueRuntime(EmulatedQueue queue)
    {
        Name = queue.Name;
        Id = queue.Name[(queue.Name.LastIndexOf('/') + 1)..];
        _settings = new QueueSettings(queue);
    }

    public string Name { get; }

    public string Id { get; }

    public QueueSettings Settings => _settings;

    public QueueRetryConfig Retry => _settings.Queue.RetryConfig;

    public int MaxConcurrentDispatches => _settings.Queue.RateLimits.MaxConcurrentDispatches;

    public DispatchRateLimiter Limiter => _settings.Limiter;

    public volatile bool Paused;

    public DateTimeOffset? PurgeTime { get; set; }

    /// <summary>Cancelled when the queue is deleted: its dispatch loop ends.</summary>
    public CancellationTokenSource Deleted { get; } = new();

    /// <summary>Tasks <c>:run</c> asked to dispatch now, whatever their schedule, the queue's limits or a pause.</summary>
    public ConcurrentQueue<string> RunNow { get; } = new();

    public ConcurrentDictionary<string, byte> InFlight { get; } = new(StringComparer.Ordinal);

    public WakeSignal Wake { get; } = new();

    /// <summary>Enough due names to find dispatchable ones past every task already in flight.</summary>
    public int FetchLimit => Math.Min(MaxConcurrentDispatches, 5_000) + 64;

    /// <summary>New rate limits and retry settings take effect from the next dispatch on.</summary>
    public void Apply(EmulatedQueue queue)
    {
        _settings = new QueueSettings(queue);
        Wake.Set();
    }

    public void Park(DateTimeOffset? until)
    {
        Volatile.Write(ref _parkedUntilTicks, until?.UtcTicks ?? long.MaxValue);
        _parked = true;
    }

    public void Unpark() => _parked = false;

    /// <summary>
    /// True while the loop waits for something that has not happened: its wake-up time is still ahead, nothing signalled
    /// it, and (unless <paramref name="allowInFlight"/>) no dispatch is outstanding.
    /// </summary>
    public bool IsQuiet(DateTimeOffset now, bool allowInFlight) =>
        _parked
        && !Wake.IsSet
        && Volatile.Read(ref _parkedUntilTicks) > now.UtcTicks
        && (allowInFlight || InFlight.IsEmpty);
}

/// <summary>One consistent set of a queue's settings and the rate limiter built for them.</summary>
internal sealed class QueueSettings(EmulatedQueue queue)
{
    public EmulatedQueue Queue { get; } = queue;

    public DispatchRateLimiter Limiter { get; } = new(queue.RateLimits.MaxDispatchesPerSecond);
}
