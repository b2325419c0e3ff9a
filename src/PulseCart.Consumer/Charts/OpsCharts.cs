using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Charts;

/// <summary>The last hour of this process's work, for the charts on the operator page.</summary>
public sealed record ChartData(
    DateTimeOffset From,
    int Minutes,
    IReadOnlyDictionary<string, long[]> Deliveries,
    IReadOnlyDictionary<string, long[]> Reminders,
    long?[] QuarantineSize);

/// <summary>
/// The per-minute series behind the operator page's charts, fed by <c>ConsumerMetrics</c> where it already counts
/// (deliveries by outcome, reminders by outcome) and by a sampler (quarantine size). Per process: the cluster's sums
/// belong to the monitoring in <c>deploy/</c>.
/// </summary>
public sealed class OpsCharts(TimeProvider time, IQuarantine quarantine)
{
    public static readonly string[] DeliveryOutcomes = ["processed", "duplicate", "stale", "ignored", "quarantined", "failed", "unauthorised"];
    public static readonly string[] ReminderOutcomes = ["scheduled", "sent", "skipped", "already_sent", "dead_lettered", "continued"];

    private readonly MinuteCounters _deliveries = new(time, DeliveryOutcomes);
    private readonly MinuteCounters _reminders = new(time, ReminderOutcomes);
    private readonly MinuteGauge _quarantineSize = new();

    public void Delivery(string outcome) => _deliveries.Increment(outcome);

    public void Reminder(string outcome) => _reminders.Increment(outcome);

    /// <summary>Samples the quarantine's size into the current minute (when the store can say).</summary>
    public void SampleQuarantine()
    {
        if (quarantine.Stats() is { } stats)
        {
            _quarantineSize.Set(time.GetUtcNow(), stats.Entries);
        }
    }

    public ChartData LastHour()
    {
        var now = time.GetUtcNow();
        var from = DateTimeOffset.FromUnixTimeSeconds((MinuteCounters.MinuteOf(now) - MinuteCounters.Minutes + 1) * 60);
        return new ChartData(from, MinuteCounters.Minutes, _deliveries.LastHour(now), _reminders.LastHour(now), _quarantineSize.LastHour(now));
    }
}

/// <summary>Samples the quarantine's size every <see cref="Interval"/>, so its chart has a point per minute even when nobody looks.</summary>
public sealed class QuarantineSizeSampler(OpsCharts charts, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the host's start: a Redis store that is slow to answer must not hold it up.
        await Task.Yield();
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            charts.SampleQuarantine();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
