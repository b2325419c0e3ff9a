using System.Globalization;
using System.Runtime;

// A .NET startup hook (DOTNET_STARTUP_HOOKS) that bench/run.sh loads into the no-op, the baseline and the consumer
// alike, so that each measurement can say how much of a service's time went to garbage collection, without any
// change to the services themselves. Twice a second it rewrites one line in $BENCH_RUNTIME_PROBE_FILE:
//   cpu_ms gc_pause_ms allocated_bytes gen0 gen1 gen2 heap_bytes committed_bytes threadpool_threads server_gc
// The type must be internal, unnamespaced and named StartupHook: that is the runtime's contract.
#pragma warning disable CA1050
internal static class StartupHook
#pragma warning restore CA1050
{
    private static Timer? _timer;

    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable("BENCH_RUNTIME_PROBE_FILE");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        var temporary = path + ".tmp";
        _timer = new Timer(_ =>
        {
            var memory = GC.GetGCMemoryInfo();
            var line = string.Join(' ',
                Environment.CpuUsage.TotalTime.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture),
                GC.GetTotalPauseDuration().TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture),
                GC.GetTotalAllocatedBytes().ToString(CultureInfo.InvariantCulture),
                GC.CollectionCount(0).ToString(CultureInfo.InvariantCulture),
                GC.CollectionCount(1).ToString(CultureInfo.InvariantCulture),
                GC.CollectionCount(2).ToString(CultureInfo.InvariantCulture),
                memory.HeapSizeBytes.ToString(CultureInfo.InvariantCulture),
                memory.TotalCommittedBytes.ToString(CultureInfo.InvariantCulture),
                ThreadPool.ThreadCount.ToString(CultureInfo.InvariantCulture),
                GCSettings.IsServerGC ? "1" : "0");
            try
            {
                File.WriteAllText(temporary, line + "\n");
                File.Move(temporary, path, overwrite: true);
            }
            catch (IOException)
            {
                // The next tick writes it again.
            }
        }, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(500));
    }
}
