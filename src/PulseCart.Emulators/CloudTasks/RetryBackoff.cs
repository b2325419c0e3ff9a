namespace PulseCart.Emulators.CloudTasks;

/// <summary>Cloud Tasks' retry schedule and give-up rule for a queue's <c>retryConfig</c>.</summary>
internal static class RetryBackoff
{
    /// <summary>
    /// The wait before retry number <paramref name="retryIndex"/> (0 for the first retry): minBackoff doubles
    /// maxDoublings times, then grows by 2^maxDoublings × minBackoff per retry, capped at maxBackoff.
    /// With 10 s, 300 s and 3 doublings: 10, 20, 40, 80, 160, 240, 300, 300 s.
    /// </summary>
    public static TimeSpan Interval(QueueRetryConfig config, int retryIndex)
    {
        var doublings = Math.Min(retryIndex, config.MaxDoublings);
        var linearSteps = Math.Max(0, retryIndex - config.MaxDoublings);
        var factor = Math.Pow(2, doublings) + linearSteps * Math.Pow(2, config.MaxDoublings);
        var ticks = config.MinBackoff.Ticks * factor;
        return ticks >= config.MaxBackoff.Ticks ? config.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>
    /// As in Cloud Tasks, a failed task is dropped only once every configured limit has been reached: maxAttempts
    /// attempts (unless -1) and maxRetryDuration since the first attempt (unless zero). With neither, it retries forever.
    /// </summary>
    public static bool IsExhausted(QueueRetryConfig config, int attempts, TimeSpan sinceFirstAttempt)
    {
        var attemptsLimited = config.MaxAttempts != -1;
        var durationLimited = config.MaxRetryDuration > TimeSpan.Zero;
        if (!attemptsLimited && !durationLimited)
        {
            return false;
        }

        return (!attemptsLimited || attempts >= config.MaxAttempts)
            && (!durationLimited || sinceFirstAttempt >= config.MaxRetryDuration);
    }
}
