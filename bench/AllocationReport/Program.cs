using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Who allocates, from a `dotnet-trace collect --profile gc-verbose` trace: the runtime samples one allocation per
// ~100 KB with its type and stack (AllocationTick). Prints the sampled bytes by type and by frame (inclusive), as a
// share and, given the number of events the trace covers, as KB per event.
//   dotnet run -c Release --project bench/AllocationReport -- TRACE.nettrace [EVENTS]
if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: AllocationReport TRACE.nettrace [EVENTS]");
    return 2;
}

var events = args.Length == 2 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1;
using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>();
var byFrame = new Dictionary<string, long>();
long total = 0;
foreach (var traced in log.Events)
{
    if (traced is not GCAllocationTickTraceData tick)
    {
        continue;
    }

    var bytes = tick.AllocationAmount64;
    total += bytes;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + bytes;
    var seen = new HashSet<string>();
    for (var frame = traced.CallStack(); frame is not null; frame = frame.Caller)
    {
        var name = MethodName(frame.CodeAddress.FullMethodName);
        if (name.Length > 0 && seen.Add(name))
        {
            byFrame[name] = byFrame.GetValueOrDefault(name) + bytes;
        }
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"sampled {total / 1e6:F1} MB{(args.Length == 2 ? $", {total / events / 1024:F2} KB per event" : "")}"));
Print("by type", byType, 30);
Print("by frame, inclusive", byFrame, 80);
return 0;

void Print(string title, Dictionary<string, long> bytes, int rows)
{
    Console.WriteLine($"== {title}");
    foreach (var (name, amount) in bytes.OrderByDescending(entry => entry.Value).Take(rows))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{amount * 100.0 / total,5:F1}% {amount / events / 1024,8:F2} KB  {name}"));
    }
}

static string MethodName(string full)
{
    var arguments = full.IndexOf('(', StringComparison.Ordinal);
    return arguments > 0 ? full[..arguments] : full;
}
