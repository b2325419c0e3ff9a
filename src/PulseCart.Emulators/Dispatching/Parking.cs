namespace PulseCart.Emulators.Dispatching;

/// <summary>A dispatch loop that can wait for its next due time or a wake-up, and tell tests it is waiting.</summary>
internal interface IParkable
{
    WakeSignal Wake { get; }

    void Park(DateTimeOffset? until);

    void Unpark();
}

internal static class Parking
{
    // A far-future due time still wakes daily, so a clock jump in a test never strands the loop.
    private static readonly TimeSpan LongestPark = TimeSpan.FromDays(1);

    /// <summary>Waits on the emulator's clock until <paramref name="wakeAt"/> (null: until woken) or a wake-up signal.</summary>
    public static async Task ParkAsync(IParkable loop, TimeProvider timeProvider, DateTimeOffset? wakeAt, CancellationToken stoppingToken)
    {
        var now = timeProvider.GetUtcNow();
        if (wakeAt is { } due && due <= now)
        {
            return;
        }

        if (wakeAt > now + LongestPark)
        {
            wakeAt = now + LongestPark;
        }

        loop.Park(wakeAt);
        try
        {
            var signalled = loop.Wake.WaitAsync();
            if (wakeAt is null)
            {
                await signalled.WaitAsync(stoppingToken).ConfigureAwait(false);
                return;
            }

            using var timerCancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var delay = wakeAt.Value - timeProvider.GetUtcNow();
            if (delay <= TimeSpan.Zero)
            {
                return;
            }

            var timer = Task.Delay(delay, timeProvider, timerCancellation.Token);

            // The clock may have moved between reading it and creating the timer; the timer would then fire late.
            if (timeProvider.GetUtcNow() < wakeAt.Value)
            {
                await Task.WhenAny(signalled, timer).ConfigureAwait(false);
            }

            await timerCancellation.CancelAsync().ConfigureAwait(false);
            stoppingToken.ThrowIfCancellationRequested();
        }
        finally
        {
            loop.Unpark();
        }
    }
}
