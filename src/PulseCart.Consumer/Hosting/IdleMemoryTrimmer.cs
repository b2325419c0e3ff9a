namespace PulseCart.Consumer.Hosting;

/// <summary>
/// Gives memory back once a burst is over. When idle carts and orders deactivate, their memory is garbage, but the
/// garbage collector only runs when something allocates: a silo that went quiet after a million carts kept 4 GiB
/// (bench/README.md). So when the process has been quiet for a whole check interval after activity, one full,
/// compacting collection returns what the deactivated grains held. It pauses a process that has nothing to do.
/// </summary>
public sealed class IdleMemoryTrimmer(TimeProvider time, ILogger<IdleMemoryTrimmer> logger) : BackgroundService
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        var watch = new QuietWatch(GC.GetTotalAllocatedBytes());
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (watch.ShouldTrim(GC.GetTotalAllocatedBytes(), GC.GetGCMemoryInfo().TotalCommittedBytes))
            {
                var before = Environment.WorkingSet;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                logger.LogInformation(
                    "Quiet after a burst: collected what deactivated grains held, working set {BeforeMiB} MiB -> {AfterMiB} MiB",
                    before >> 20, Environment.WorkingSet >> 20);
            }
        }
    }
}

/// <summary>Decides, once per check interval, whether a burst has just ended with memory worth giving back.</summary>
public sealed class QuietWatch(long allocatedBytes)
{
    /// <summary>Allocating less than this in a check interval counts as quiet (one push allocates about 40 KB).</summary>
    public const long QuietBytes = 16 * 1024 * 1024;

    /// <summary>Below this much committed memory a full collection is not worth its pause.</summary>
    public const long WorthTrimmingBytes = 256 * 1024 * 1024;

    private long _allocatedBytes = allocatedBytes;
    private bool _busySinceLastTrim;

    /// <summary>True once per quiet spell that follows activity: an idle heap of live data is left alone.</summary>
    public bool ShouldTrim(long allocatedBytes, long committedBytes)
    {
        var quiet = allocatedBytes - _allocatedBytes < QuietBytes;
        _allocatedBytes = allocatedBytes;
        if (!quiet)
        {
            _busySinceLastTrim = true;
            return false;
        }

        if (!_busySinceLastTrim || committedBytes <= WorthTrimmingBytes)
        {
            return false;
        }

        _busySinceLastTrim = false;
        return true;
    }
}
