using PulseCart.Consumer.Telemetry;

namespace PulseCart.Consumer.Hosting;

/// <summary>
/// Gives memory back once a burst is over. Idle carts and orders deactivate minutes after the last event, and their
/// memory becomes garbage, but the garbage collector runs only when something allocates: a silo that went quiet after
/// a million carts kept 4 GiB (bench/README.md). So while no pushes or task callbacks arrive, each check that finds
/// new garbage (the deactivations themselves allocate) runs one full, compacting collection that returns memory to
/// the system. It pauses a process that has nothing else to do.
/// </summary>
public sealed class IdleMemoryTrimmer(ConsumerMetrics metrics, TimeProvider time, ILogger<IdleMemoryTrimmer> logger) : BackgroundService
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        var watch = new QuietWatch(metrics.Deliveries, GC.GetTotalAllocatedBytes());
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (watch.ShouldTrim(metrics.Deliveries, GC.GetTotalAllocatedBytes(), GC.GetGCMemoryInfo().TotalCommittedBytes))
            {
                var before = Environment.WorkingSet;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                logger.LogInformation(
                    "No deliveries for {Interval}: collected what deactivated grains held, working set {BeforeMiB} MiB -> {AfterMiB} MiB",
                    CheckInterval, before >> 20, Environment.WorkingSet >> 20);
            }
        }
    }
}

/// <summary>Decides, once per check interval, whether an idle process holds garbage worth a full collection.</summary>
public sealed class QuietWatch(long deliveries, long allocatedBytes)
{
    /// <summary>Allocated since the last collection it asked for: less than this is not worth a pause.</summary>
    public const long NewGarbageBytes = 64 * 1024 * 1024;

    /// <summary>Below this much committed memory there is nothing to give back.</summary>
    public const long WorthTrimmingBytes = 256 * 1024 * 1024;

    private long _deliveries = deliveries;
    private long _allocatedAtLastTrim = allocatedBytes;

    /// <summary>
    /// True when no delivery arrived since the last check, enough has been allocated since the last trim to have left
    /// garbage (a burst, or the deactivations after it), and the process holds enough memory to matter. Under load it
    /// never fires (the GC runs anyway); an idle process holding live data is left alone after one collection.
    /// </summary>
    public bool ShouldTrim(long deliveries, long allocatedBytes, long committedBytes)
    {
        var quiet = deliveries == _deliveries;
        _deliveries = deliveries;
        if (!quiet || allocatedBytes - _allocatedAtLastTrim < NewGarbageBytes || committedBytes <= WorthTrimmingBytes)
        {
            return false;
        }

        _allocatedAtLastTrim = allocatedBytes;
        return true;
    }
}
