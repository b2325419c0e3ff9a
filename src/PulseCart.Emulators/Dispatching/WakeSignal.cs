namespace PulseCart.Emulators.Dispatching;

/// <summary>An auto-reset signal that remembers a set until the waiter consumes it.</summary>
internal sealed class WakeSignal
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsSet
    {
        get
        {
            lock (_lock)
            {
                return _source.Task.IsCompleted;
            }
        }
    }

    public void Set()
    {
        lock (_lock)
        {
            _source.TrySetResult();
        }
    }

    /// <summary>Consumes a pending set; anything set afterwards wakes the next wait.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            if (_source.Task.IsCompleted)
            {
                _source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    public Task WaitAsync()
    {
        lock (_lock)
        {
            return _source.Task;
        }
    }
}

/// <summary>
/// A sliding-window limit: at most <c>burst</c> dispatches start in any window of <c>burst / rate</c> seconds, which for
/// whole rates means at most <c>rate</c> in any one second, however the clock jumps. Used by one loop only.
/// </summary>
internal sealed class DispatchRateLimiter
{
    private readonly Queue<DateTimeOffset> _recent = new();
    private readonly int _burst;
    private readonly TimeSpan _window;

    public DispatchRateLimiter(double dispatchesPerSecond)
    {
        _burst = Math.Max(1, (int)Math.Floor(dispatchesPerSecond));
        _window = TimeSpan.FromSeconds(_burst / dispatchesPerSecond);
    }

    /// <summary>How many dispatches may start at once before the rate applies (Cloud Tasks' <c>maxBurstSize</c>).</summary>
    public int Burst => _burst;

    /// <summary>Takes a slot at <paramref name="now"/>, or returns when the next slot opens.</summary>
    public DateTimeOffset? TryAcquire(DateTimeOffset now)
    {
        while (_recent.Count > 0 && _recent.Peek() <= now - _window)
        {
            _recent.Dequeue();
        }

        if (_recent.Count < _burst)
        {
            _recent.Enqueue(now);
            return null;
        }

        return _recent.Peek() + _window;
    }
}
