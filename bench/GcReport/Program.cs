using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Analysis;
using Microsoft.Diagnostics.Tracing.Analysis.GC;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Every garbage collection in a trace: generation, pause (suspending the threads, then collecting; a background
// collection runs beside the program, so only its short pauses stop it), bytes promoted and, with the GC keyword at
// verbose level, how long each heap spent marking from each kind of root ("MarkOlder" is references from older
// generations). Then per generation: count, mean and max pause, mean promoted, and the share of the traced time paused.
//   dotnet-trace collect -p N --providers Microsoft-Windows-DotNETRuntime:0x1:5 --duration 00:00:00:10 -o gc.nettrace
//   dotnet run -c Release --project bench/GcReport -- gc.nettrace
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: GcReport TRACE.nettrace");
    return 2;
}

using var source = new EventPipeEventSource(args[0]);
source.NeedLoadedDotNetRuntimes();
source.Process();
var collections = source.Processes()
    .Select(process => process.LoadedDotNetRuntime())
    .Where(runtime => runtime is not null)
    .SelectMany(runtime => runtime.GC.GCs)
    .ToList();
if (collections.Count == 0)
{
    Console.Error.WriteLine("no garbage collection in this trace");
    return 1;
}

foreach (var gc in collections)
{
    Console.WriteLine(Invariant(
        $"{gc.StartRelativeMSec,9:F0} ms  gen{gc.Generation} {gc.Type,-16} pause {gc.PauseDurationMSec,6:F1} ms {Split(gc)}  promoted {gc.PromotedMB,6:F1} MB  heap after {gc.HeapSizeAfterMB,6:F0} MB{MarkTimes(gc)}"));
}

var traced = collections[^1].StartRelativeMSec + collections[^1].PauseDurationMSec - collections[0].StartRelativeMSec;
Console.WriteLine(Invariant($"== {collections.Count} collections over {traced / 1000:F1} s, {collections.Sum(gc => gc.PauseDurationMSec) * 100 / traced:F1} % of it paused"));
foreach (var generation in collections.GroupBy(gc => gc.Generation).OrderBy(group => group.Key))
{
    Console.WriteLine(Invariant(
        $"gen{generation.Key}: {generation.Count()} collections, pause mean {generation.Average(gc => gc.PauseDurationMSec):F1} ms, max {generation.Max(gc => gc.PauseDurationMSec):F1} ms, suspending mean {generation.Average(gc => gc.SuspendDurationMSec):F1} ms, promoted mean {generation.Average(gc => gc.PromotedMB):F1} MB"));
}

return 0;

static string Split(TraceGC gc) => gc.Type == GCType.BackgroundGC
    ? Invariant($"(suspending {gc.SuspendDurationMSec,4:F1}, in the background {gc.DurationMSec,5:F0})")
    : Invariant($"(suspending {gc.SuspendDurationMSec,4:F1}, collecting {gc.DurationMSec,5:F1})");

static string MarkTimes(TraceGC gc)
{
    if (gc.PerHeapMarkTimes is not { Count: > 0 } heaps)
    {
        return "";
    }

    return string.Concat(heaps.OrderBy(heap => heap.Key).Select(heap =>
        $"  h{heap.Key}: " + string.Join(' ', heap.Value.MarkTimes
            .Select((ms, root) => (ms, root))
            .Where(mark => mark.ms >= 0.1)
            .Select(mark => Invariant($"{(MarkRootType)mark.root} {mark.ms:F1} ms")))));
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
