using System.Collections.Concurrent;
using PulseCart.Emulators.Dispatching;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>A queue's live dispatch state: its limits, the tasks being dispatched and the dispatch loop's parking spot.</summary>
internal sealed class QueueRuntime : IParkable
{
    private long _parkedUntilTicks;
    private volatile bool _parked;

    public QueueRuntime(EmulatedQueue queue)
    {
        Name = queue.Name;
        Id = queue.Name[(queue.Name.LastIndexOf('/') + 1)..];
        Retry = queue.RetryConfig;
        MaxConcurrentDispatches = queue.RateLimits.MaxConcurrentDispatches;
        Limiter = new DispatchRateLimiter(queue.RateLimits.MaxDispatchesPerSecond);
    }

    public string Name { get; }

    public string Id { get; }

    public QueueRetryConfig Retry { get; }

    public int MaxConcurrentDispatches { get; }

    public DispatchRateLimiter Limiter { get; }

    public ConcurrentDictionary<string, byte> InFlight { get; } = new(StringComparer.Ordinal);

    public WakeSignal Wake { get; } = new();

    /// <summary>Enough due names to find dispatchable ones past every task already in flight.</summary>
    public int FetchLimit => Math.Min(MaxConcurrentDispatches, 5_000) + 64;

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
