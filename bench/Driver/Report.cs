using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PulseCart.Bench.Driver;

/// <summary>
/// Turns run.sh's raw lines (one JSON object per measurement) into the printed tables and the results file.
/// With --gate it exits 1 when any service answered an error, the consumer sent a message twice (or never), or a
/// load did not exercise the path it names. Targets are printed MET or MISSED; they do not fail the run.
/// </summary>
public static partial class Report
{
    private static readonly string[] Loads = ["unique", "dup", "mix", "sessions", "active"];
    private static readonly string[] Services = ["no-op", "baseline", "consumer"];
    private static readonly Dictionary<string, string> LoadNames = new()
    {
        ["unique"] = "(a) unique order.placed",
        ["dup"] = "(b) duplicates only",
        ["mix"] = "(c) mix, 5% duplicates",
        ["sessions"] = "(e) shoppers' sessions",
        ["active"] = "(f) active carts",
    };

    public static int Run(Arguments arguments)
    {
        var raw = File.ReadAllLines(arguments.Text("raw"))
            .Where(line => line.StartsWith('{'))
            .Select(line => JsonNode.Parse(line)!.AsObject())
            .ToList();
        var meta = raw.FirstOrDefault(line => Kind(line) == "meta") ?? [];
        var problems = new List<string>();
        var text = new StringBuilder();
        var result = new JsonObject { ["meta"] = meta.DeepClone() };

        var end = raw.FirstOrDefault(line => Kind(line) == "end");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"machine: {meta["machine"]?["cores"]} cores, {meta["machine"]?["cpu"]}; consumer: {meta["consumer"]}; "
            + $"load average {meta["load_average_at_start"]} at start{(end is null ? "" : $", {end["load_average_at_end"]} at end")}; priority boost: {meta["priority"]}");
        text.AppendLine();

        var medians = new Dictionary<(string Load, string Service), double>();
        var loads = raw.Where(line => Kind(line) == "load").ToList();
        if (loads.Count > 0)
        {
            result["loads"] = LoadTable(loads, text, problems, medians);
        }

        var redeliveries = raw.Where(line => Kind(line) == "redelivery").ToList();
        if (redeliveries.Count > 0)
        {
            result["redelivery"] = RedeliveryTable(redeliveries, text, problems);
        }

        var paced = raw.Where(line => Kind(line) == "paced").ToList();
        if (paced.Count > 0)
        {
            result["paced"] = PacedTable(paced, raw.FirstOrDefault(line => Kind(line) == "paced_meta"), text, problems);
        }

        if (raw.FirstOrDefault(line => Kind(line) == "single_cart") is { } singleCart)
        {
            result["single_cart"] = SingleCartText(singleCart["result"]!.AsObject(), text, problems);
        }

        if (raw.FirstOrDefault(line => Kind(line) == "quarantine") is { } quarantine)
        {
            result["quarantine"] = QuarantineText(quarantine["result"]!.AsObject(), text, problems);
        }

        var cold = raw.Where(line => Kind(line) == "cold").ToList();
        if (cold.Count > 0)
        {
            result["cold"] = ColdTables(cold, text, problems);
        }

        if (raw.FirstOrDefault(line => Kind(line) == "memory") is { } memory)
        {
            result["memory"] = memory.DeepClone();
            MemoryText(memory, text, problems);
        }

        result["targets"] = Targets(medians, result, text);

        result["problems"] = new JsonArray(problems.Select(p => (JsonNode)p).ToArray());
        Console.Write(text.ToString());
        if (problems.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("PROBLEMS:");
            problems.ForEach(problem => Console.WriteLine($"  - {problem}"));
        }

        if (arguments.Optional("out") is { } output)
        {
            File.WriteAllText(output, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"\nresults: {output}");
        }

        return arguments.Flag("gate") && problems.Count > 0 ? 1 : 0;
    }

    private static JsonArray LoadTable(
        List<JsonObject> loads, StringBuilder text, List<string> problems, Dictionary<(string Load, string Service), double> medians)
    {
        var rows = new JsonArray();
        foreach (var load in Loads)
        {
            foreach (var service in Services)
            {
                var rounds = loads.Where(l => Str(l, "load") == load && Str(l, "service") == service).ToList();
                if (rounds.Count > 0)
                {
                    medians[(load, service)] = Median(rounds.Select(r => Num(r["wrk"]!, "rps")));
                }
            }
        }

        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"load",-24} {"service",-9} {"req/s",8} {"range over rounds",19} {"p50 ms",7} {"p99 ms",7} {"÷baseline",9} {"÷no-op",7} {"errors",6}  {"cpu: svc",8} {"redis",5} {"client",6} {"irq",4} {"stub",4} {"other",5} {"tasks",5} {"cpu µs/req: svc",15} {"kernel",6} {"svc+redis",9} {"gc pause %",10} {"alloc KB/req",12}");
        foreach (var load in Loads)
        {
            foreach (var service in Services)
            {
                var rounds = loads.Where(l => Str(l, "load") == load && Str(l, "service") == service).ToList();
                if (rounds.Count == 0)
                {
                    continue;
                }

                var wrk = rounds.Select(r => r["wrk"]!).ToList();
                var rps = medians[(load, service)];
                var errors = wrk.Sum(w => w["errors"]!.AsObject().Sum(e => e.Value!.GetValue<double>()));
                var serviceCpu = Median(rounds.Select(r => Num(r["cpu"]!, "service")));
                var redisCpu = Median(rounds.Select(r => Num(r["cpu"]!, "redis")));
                var machineCpu = Median(rounds.Select(r => Num(r["cpu"]!, "machine")));
                var clientCpu = Median(rounds.Select(r => Num(r["cpu"]!, "client")));
                var otherCpu = Median(rounds.Select(r => Num(r["cpu"]!, "other")));
                var softirqCpu = Median(rounds.Select(r => Num(r["cpu"]!, "softirq")));
                var stubCpu = Median(rounds.Select(r => Num(r["cpu"]!, "tasks_stub")));
                var tasksCreated = Median(rounds.Select(TasksCreated));
                var cpuPerRequest = Median(rounds.Select(r => Num(r["cpu"]!, "service") / Num(r["wrk"]!, "rps") * 1e6));
                var gcPause = Median(rounds.Select(r => r["runtime"] is { } rt ? Num(rt, "gc_pause_ms") / (Num(r["wrk"]!, "seconds") * 10) : 0));
                var allocated = Median(rounds.Select(r => r["runtime"] is { } rt ? Num(rt, "allocated_bytes") / Num(r["wrk"]!, "requests") / 1024 : 0));
                // Of the service's CPU, the time in the kernel on its behalf (system calls, wake-ups, loopback TCP sends).
                var kernelPerRequest = Median(rounds.Select(r => Num(r["cpu"]!, "service_kernel") / Num(r["wrk"]!, "rps") * 1e6));
                var cpuWithRedisPerRequest = Median(rounds.Select(r => (Num(r["cpu"]!, "service") + Num(r["cpu"]!, "redis")) / Num(r["wrk"]!, "rps") * 1e6));
                double? vsBaseline = medians.TryGetValue((load, "baseline"), out var b) ? rps / b : null;
                double? vsNoOp = medians.TryGetValue((load, "no-op"), out var n) ? rps / n : null;
                var p50 = Median(wrk.Select(w => Num(w, "p50_ms")));
                var p99 = Median(wrk.Select(w => Num(w, "p99_ms")));
                var range = $"{wrk.Min(w => Num(w, "rps")):F0}–{wrk.Max(w => Num(w, "rps")):F0}";
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{LoadNames[load],-24} {service,-9} {rps,8:F0} {range,19} {p50,7:F2} {p99,7:F2} {Ratio(vsBaseline),9} {Ratio(vsNoOp),7} {errors,6:F0}  {serviceCpu,8:F2} {redisCpu,5:F2} {clientCpu,6:F2} {softirqCpu,4:F2} {stubCpu,4:F2} {otherCpu,5:F2} {tasksCreated,5:F0} {cpuPerRequest,15:F0} {kernelPerRequest,6:F0} {cpuWithRedisPerRequest,9:F0} {gcPause,10:F1} {allocated,12:F1}");
                if (errors > 0)
                {
                    problems.Add($"{service} answered {errors:F0} errors (non-2xx, socket errors or timeouts) under load {load}");
                }

                rows.Add(new JsonObject
                {
                    ["load"] = load,
                    ["service"] = service,
                    ["rounds"] = rounds.Count,
                    ["rps_median"] = Math.Round(rps, 1),
                    ["rps_per_round"] = new JsonArray(wrk.Select(w => (JsonNode)Math.Round(Num(w, "rps"), 1)).ToArray()),
                    ["p50_ms_median"] = Math.Round(p50, 3),
                    ["p99_ms_median"] = Math.Round(p99, 3),
                    ["ratio_vs_baseline"] = vsBaseline is null ? null : Math.Round(vsBaseline.Value, 3),
                    ["ratio_vs_noop"] = vsNoOp is null ? null : Math.Round(vsNoOp.Value, 3),
                    ["errors"] = errors,
                    ["cpu_cores_service"] = Math.Round(serviceCpu, 2),
                    ["cpu_cores_redis"] = Math.Round(redisCpu, 2),
                    ["cpu_cores_client"] = Math.Round(clientCpu, 2),
                    ["cpu_cores_softirq"] = Math.Round(softirqCpu, 2),
                    ["cpu_cores_tasks_stub"] = Math.Round(stubCpu, 2),
                    ["reminder_tasks_created_median"] = tasksCreated,
                    ["cpu_cores_other"] = Math.Round(otherCpu, 2),
                    ["cpu_cores_machine"] = Math.Round(machineCpu, 2),
                    ["service_cpu_us_per_request"] = Math.Round(cpuPerRequest, 1),
                    ["service_kernel_cpu_us_per_request"] = Math.Round(kernelPerRequest, 1),
                    ["service_and_redis_cpu_us_per_request"] = Math.Round(cpuWithRedisPerRequest, 1),
                    ["gc_pause_percent_of_wall"] = Math.Round(gcPause, 1),
                    ["allocated_kib_per_request"] = Math.Round(allocated, 1),
                    ["raw"] = new JsonArray(rounds.Select(r => r.DeepClone()).ToArray()),
                });
            }
        }

        OutcomeChecks(loads, text, problems);
        if (loads.Select(l => l["tasks"]?["after"]?["authorized_calls"]).OfType<JsonNode>().Any(n => n.GetValue<double>() > 0))
        {
            problems.Add("a service sent an Authorization header to the Cloud Tasks stub: with a non-Google BaseUrl it should ask for no credentials");
        }

        var busiestOther = loads.Max(l => Num(l["cpu"]!, "other"));
        if (busiestOther > 0.25)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"note: processes outside the benchmark (and the idle services) used up to {busiestOther:F2} of the {Environment.ProcessorCount} cores during a measurement (column 'other'): such rounds are noisy.");
        }

        return rows;
    }

    /// <summary>Reminder tasks the Cloud Tasks stub created during one measurement (ALREADY_EXISTS not counted).</summary>
    private static double TasksCreated(JsonObject line) =>
        line["tasks"] is { } tasks ? Num(tasks["after"]!, "created") - Num(tasks["before"]!, "created") : 0;

    /// <summary>
    /// When the run counted X-PulseCart-Outcome answers (smoke), checks that each load exercised the path it names:
    /// nothing quarantined, no duplicate among unique events, nothing but duplicates once the fixed set was seeded, every
    /// active-cart event processed.
    /// </summary>
    private static void OutcomeChecks(List<JsonObject> loads, StringBuilder text, List<string> problems)
    {
        var counted = loads.Where(l => l["wrk"]?["outcomes"] is JsonObject { Count: > 0 }).ToList();
        if (counted.Count == 0)
        {
            return;
        }

        text.AppendLine();
        text.AppendLine("outcomes (X-PulseCart-Outcome) per load and service:");
        foreach (var line in counted)
        {
            var outcomes = line["wrk"]!["outcomes"]!.AsObject();
            var (load, service) = (Str(line, "load"), Str(line, "service"));
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {load,-7} {service,-9} round {line["round"]}: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}");
            double Count(string outcome) => outcomes[outcome]?.GetValue<double>() ?? 0;
            var total = outcomes.Sum(o => o.Value!.GetValue<double>());
            if (Count("quarantined") > 0)
            {
                problems.Add($"{service} quarantined {Count("quarantined"):F0} requests of load {load}: the load generator sends something unusable");
            }

            if (load == "unique" && Count("duplicate") > 0)
            {
                problems.Add($"{service} saw {Count("duplicate"):F0} duplicates in the unique load");
            }

            if (load == "dup" && service != "no-op" && Count("duplicate") < total)
            {
                problems.Add($"{service} answered {total - Count("duplicate"):F0} requests of the duplicate load as something other than duplicate");
            }

            if (load == "active" && service == "consumer" && Count("processed") < total)
            {
                problems.Add($"{service} answered {total - Count("processed"):F0} requests of the active-cart load as something other than processed");
            }
        }
    }

    private static JsonArray RedeliveryTable(List<JsonObject> lines, StringBuilder text, List<string> problems)
    {
        var rows = new JsonArray();
        text.AppendLine();
        text.AppendLine("(d) concurrent identical redelivery: each event delivered 50 times at once; sends counted per idempotency key in the message file");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"service",-9} {"events",6} {"copies",6} {"requests",8} {"non-2xx",7} {"failed",6} {"keys sent",9} {"keys sent >1",12} {"duplicate sends",15} {"max/key",7} {"never sent",10}");
        foreach (var line in lines)
        {
            var service = Str(line, "service");
            var send = line["send"]!;
            var count = line["count"]!;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{service,-9} {Num(send, "events"),6:F0} {Num(send, "copies"),6:F0} {Num(send, "requests"),8:F0} {Num(send, "non_2xx"),7:F0} {Num(send, "failures"),6:F0} {Num(count, "keys_sent"),9:F0} {Num(count, "keys_sent_more_than_once"),12:F0} {Num(count, "duplicate_sends"),15:F0} {Num(count, "max_sends_per_key"),7:F0} {Num(count, "keys_never_sent"),10:F0}");
            if (Num(send, "non_2xx") + Num(send, "failures") > 0)
            {
                problems.Add($"{service} failed {Num(send, "non_2xx") + Num(send, "failures"):F0} of the concurrent redeliveries");
            }

            if (Num(count, "keys_never_sent") > 0)
            {
                problems.Add($"{service} never sent {Num(count, "keys_never_sent"):F0} confirmations under concurrent redelivery");
            }

            if (service == "consumer" && Num(count, "duplicate_sends") > 0)
            {
                problems.Add($"consumer sent {Num(count, "duplicate_sends"):F0} duplicate confirmations under concurrent redelivery");
            }

            rows.Add(line.DeepClone());
        }

        var consumer = lines.FirstOrDefault(line => Str(line, "service") == "consumer");
        if (consumer is not null)
        {
            var duplicates = Num(consumer["count"]!, "duplicate_sends");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"target 0 duplicate sends by the consumer under 50-way redelivery: {duplicates:F0} {(duplicates == 0 ? "MET" : "MISSED")}");
        }

        return rows;
    }

    private static void MemoryText(JsonObject memory, StringBuilder text, List<string> problems)
    {
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"memory: {memory.ToJsonString()}");
        if (memory["push"] is { } push && Num(push, "non_2xx") + Num(push, "failures") > 0)
        {
            problems.Add($"consumer failed {Num(push, "non_2xx") + Num(push, "failures"):F0} pushes in the memory run");
        }
    }

    private static string Ratio(double? ratio) => ratio is null ? "" : ratio.Value.ToString("F2", CultureInfo.InvariantCulture);

    private static string? Kind(JsonObject line) => line["kind"]?.GetValue<string>();

    private static string Str(JsonObject line, string name) => line[name]!.GetValue<string>();

    private static double Num(JsonNode node, string name) => node[name] is { } value ? value.GetValue<double>() : 0;

    private static double? NumOrNull(JsonNode? node, string name) => node?[name] is JsonValue value ? value.GetValue<double>() : null;

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
