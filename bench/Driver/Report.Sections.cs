using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace PulseCart.Bench.Driver;

// The report's parts beyond the throughput table: latency at a fixed rate, one cart's rate, quarantine memory,
// cold start (warm-up curve and long run), and the targets of issues 12 and 13.
public static partial class Report
{
    private const double WarmUpShare = 0.8;
    private const int WarmUpCurveSeconds = 30;
    private const int LongRunWindowSeconds = 30;

    private static JsonObject PacedTable(List<JsonObject> lines, JsonObject? meta, StringBuilder text, List<string> problems)
    {
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"sessions at half the seed's peak: a fixed offered rate of {NumOrNull(meta, "rate_target"):F0} req/s (the baseline's median sessions rate {NumOrNull(meta, "seed_peak_rps"):F0} ÷ 2), requests sent on schedule whatever the latency");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"service",-9} {"offered",8} {"req/s",8} {"p50 ms",7} {"p90 ms",7} {"p99 ms",7} {"max ms",7} {"errors",6} {"cpu: svc",8} {"cpu µs/req",10}");
        var rows = new JsonArray();
        foreach (var line in lines)
        {
            var service = Str(line, "service");
            var wrk = line["wrk"]!;
            var target = Num(line, "rate_target");
            var rps = Num(wrk, "rps");
            var errors = wrk["errors"]!.AsObject().Sum(e => e.Value!.GetValue<double>());
            var keptUp = rps >= 0.95 * target;
            var serviceCpu = Num(line["cpu"]!, "service");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{service,-9} {target,8:F0} {rps,8:F0} {Num(wrk, "p50_ms"),7:F2} {Num(wrk, "p90_ms"),7:F2} {Num(wrk, "p99_ms"),7:F2} {Num(wrk, "max_ms"),7:F1} {errors,6:F0} {serviceCpu,8:F2} {serviceCpu / rps * 1e6,10:F0}{(keptUp ? "" : "  did not keep up with the offered rate")}");
            if (errors > 0)
            {
                problems.Add($"{service} answered {errors:F0} errors at the fixed sessions rate");
            }

            rows.Add(new JsonObject
            {
                ["service"] = service,
                ["rate_target"] = target,
                ["rps"] = Math.Round(rps, 1),
                ["kept_up"] = keptUp,
                ["p50_ms"] = Num(wrk, "p50_ms"),
                ["p90_ms"] = Num(wrk, "p90_ms"),
                ["p99_ms"] = Num(wrk, "p99_ms"),
                ["max_ms"] = Num(wrk, "max_ms"),
                ["errors"] = errors,
                ["cpu_cores_service"] = Math.Round(serviceCpu, 2),
                ["raw"] = line.DeepClone(),
            });
        }

        OutcomeChecks(lines, text, problems);
        return new JsonObject { ["seed_peak_rps"] = NumOrNull(meta, "seed_peak_rps"), ["rate_target"] = NumOrNull(meta, "rate_target"), ["rows"] = rows };
    }

    private static JsonObject SingleCartText(JsonObject result, StringBuilder text, List<string> problems)
    {
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"one cart, {Num(result, "events"):N0} distinct cart.updated over {Num(result, "concurrency")} connections (default PulseCart:Dedup:MaxEventIdsPerGrain unless --consumer-env says otherwise): events/s over {Num(result, "window"):N0} events");
        var at10000 = NumOrNull(result, "events_per_s_at_10000");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  first {Num(result, "events_per_s_first"),8:F0}   at 10,000 {(at10000 is null ? "-" : at10000.Value.ToString("F0", CultureInfo.InvariantCulture)),8}   last {Num(result, "events_per_s_last"),8:F0}   last ÷ first {Num(result, "last_to_first"):F2}   ({Num(result, "seconds")} s; outcomes {result["outcomes"]?.ToJsonString()})");
        if (Num(result, "non_2xx") + Num(result, "failures") > 0)
        {
            problems.Add($"single cart: {Num(result, "non_2xx") + Num(result, "failures"):F0} events not acknowledged");
        }

        return (JsonObject)result.DeepClone();
    }

    private static JsonObject QuarantineText(JsonObject result, StringBuilder text, List<string> problems)
    {
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"quarantine memory: {Num(result, "pushes"):N0} unusable pushes of {Num(result, "body_bytes"):N0} bytes to a fresh consumer (default settings)");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  RSS before {Num(result, "rss_before_mib"):F0} MiB, right after {Num(result, "rss_after_mib"):F0} MiB, {Num(result, "settle_s")} s later {Num(result, "rss_settled_mib"):F0} MiB, peak {Num(result, "peak_rss_mib"):F0} MiB; answers {result["statuses"]?.ToJsonString()}, outcomes {result["outcomes"]?.ToJsonString()}");
        var quarantined = result["outcomes"]?["quarantined"] is { } q ? q.GetValue<double>() : 0;
        if (Num(result, "non_2xx") + Num(result, "failures") > 0 || quarantined < Num(result, "pushes"))
        {
            problems.Add($"quarantine: {Num(result, "pushes") - quarantined:F0} of {Num(result, "pushes"):F0} unusable pushes were not acknowledged as quarantined");
        }

        return (JsonObject)result.DeepClone();
    }

    /// <summary>The warm-up curve (2 s windows from readiness) and the long run (30 s windows) of each fresh service.</summary>
    private static JsonArray ColdTables(List<JsonObject> lines, StringBuilder text, List<string> problems)
    {
        var runs = new JsonArray();
        var curves = new Dictionary<string, double[]>();
        foreach (var line in lines)
        {
            var service = Str(line, "service");
            var wrk = line["wrk"]!;
            var windows = wrk["windows"]!;
            var windowMs = Num(windows, "ms");
            // Only windows the load covered from end to end: it started a few ms after readiness and stopped mid-window.
            var loadEndMs = Num(line, "load_start_unix_ms") - Num(windows, "origin_ms") + Num(wrk, "seconds") * 1000;
            var rates = windows["sent"]!.AsArray().Select(n => n!.GetValue<double>())
                .Take((int)Math.Floor(loadEndMs / windowMs)).Select(sent => sent * 1000 / windowMs).ToArray();
            curves[service] = rates;
            var steady = Median(rates);
            var perLongWindow = (int)(LongRunWindowSeconds * 1000 / windowMs);
            var longWindows = Enumerable.Range(0, rates.Length / perLongWindow)
                .Select(w => rates.Skip(w * perLongWindow).Take(perLongWindow).Average()).ToArray();
            var firstAtShare = Array.FindIndex(rates, rate => rate >= WarmUpShare * steady);
            var errors = wrk["errors"]!.AsObject().Sum(e => e.Value!.GetValue<double>());
            if (errors > 0)
            {
                problems.Add($"{service} answered {errors:F0} errors in the cold run");
            }

            runs.Add(new JsonObject
            {
                ["service"] = service,
                ["startup_ms"] = Num(line, "ready_unix_ms") - Num(line, "started_unix_ms"),
                ["seconds"] = Num(wrk, "seconds"),
                ["requests"] = Num(wrk, "requests"),
                ["rps_mean"] = Math.Round(Num(wrk, "rps"), 1),
                ["rps_median_2s"] = Math.Round(steady, 1),
                ["p50_ms"] = Num(wrk, "p50_ms"),
                ["p99_ms"] = Num(wrk, "p99_ms"),
                ["errors"] = errors,
                ["rss_end_mib"] = NumOrNull(line, "rss_end_mib"),
                ["peak_rss_mib"] = NumOrNull(line, "peak_rss_mib"),
                ["grains_end"] = line["grains_end"]?.DeepClone(),
                ["cpu_us_per_request"] = Math.Round(Num(line["cpu_s"]!, "service") / Num(wrk, "requests") * 1e6, 1),
                ["window_ms"] = windowMs,
                ["rps_per_window"] = new JsonArray(rates.Select(r => (JsonNode)Math.Round(r, 1)).ToArray()),
                ["rps_per_30s_window"] = new JsonArray(longWindows.Select(r => (JsonNode)Math.Round(r, 1)).ToArray()),
                ["warm_up_first_window_at_80pct_s"] = firstAtShare < 0 ? null : firstAtShare * windowMs / 1000,
                ["raw"] = line.DeepClone(),
            });
        }

        var services = curves.Keys.ToList();
        var curveWindowMs = runs.Count > 0 ? Num(runs[0]!, "window_ms") : 2000;
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"warm-up: a fresh process under unique events, req/s per {curveWindowMs / 1000:F0} s window from /health/ready (ready after: {string.Join(", ", runs.Select(r => $"{r!["service"]} {Num(r, "startup_ms") / 1000:F1} s"))})");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"from s",6} {string.Join(" ", services.Select(s => $"{s,9}"))}");
        for (var w = 0; w * curveWindowMs < WarmUpCurveSeconds * 1000 && services.Any(s => w < curves[s].Length); w++)
        {
            var window = w;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{w * curveWindowMs / 1000,6:F0} {string.Join(" ", services.Select(s => window < curves[s].Length ? $"{curves[s][window],9:F0}" : $"{"",9}"))}");
        }

        text.AppendLine();
        text.AppendLine("long cold run: the same fresh processes, unique events from readiness (grains deactivate 3 min after activation)");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"service",-9} {"s",4} {"requests",9} {"req/s",7} {"median 2s",9} {"p50 ms",7} {"p99 ms",7} {"RSS end MiB",11} {"peak MiB",8} {"cpu µs/req",10}  req/s per {LongRunWindowSeconds} s window");
        foreach (var run in runs)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{Str(run!.AsObject(), "service"),-9} {Num(run, "seconds"),4:F0} {Num(run, "requests"),9:F0} {Num(run, "rps_mean"),7:F0} {Num(run, "rps_median_2s"),9:F0} {Num(run, "p50_ms"),7:F2} {Num(run, "p99_ms"),7:F2} {Num(run, "rss_end_mib"),11:F0} {Num(run, "peak_rss_mib"),8:F0} {Num(run, "cpu_us_per_request"),10:F0}  {string.Join(" ", run["rps_per_30s_window"]!.AsArray().Select(r => r!.GetValue<double>().ToString("F0", CultureInfo.InvariantCulture)))}");
            if (run["grains_end"] is JsonObject grains)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"          grains active at the end: {Num(grains, "total"):N0}, for {Num(run, "requests"):N0} events answered (each activated an OrderGrain and a CartGrain)");
            }
        }

        return runs;
    }

    private static JsonArray Targets(Dictionary<(string Load, string Service), double> medians, JsonObject result, StringBuilder text)
    {
        var targets = new JsonArray();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"targets",-56} {"measured",-50} verdict");

        void Row(string issue, string target, string measured, bool? met)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{$"{issue} {target}",-56} {measured,-50} {(met is null ? "" : met.Value ? "MET" : "MISSED")}");
            targets.Add(new JsonObject { ["issue"] = issue, ["target"] = target, ["measured"] = measured, ["met"] = met });
        }

        void Ratio(string load, string name, double goal)
        {
            var target = $"{name}: consumer ÷ baseline ≥ {goal:F1}";
            if (medians.TryGetValue((load, "consumer"), out var consumer) && medians.TryGetValue((load, "baseline"), out var baseline))
            {
                Row("#13", target, $"{consumer / baseline:F2} ({consumer:N0} vs {baseline:N0} req/s)", consumer / baseline >= goal);
            }
            else
            {
                Row("#13", target, "not measured in this run", null);
            }
        }

        Ratio("sessions", "sessions", 1.2);
        Ratio("dup", "duplicates", 1.5);
        Ratio("unique", "unique", 0.4);

        const string AllocationTarget = "allocation per event on an active cart ≤ 10 KB";
        if (result["loads"]?.AsArray().FirstOrDefault(row =>
                row?["load"]?.GetValue<string>() == "active" && row["service"]?.GetValue<string>() == "consumer") is { } activeCarts)
        {
            var allocated = Num(activeCarts, "allocated_kib_per_request");
            Row("#13", AllocationTarget, $"{allocated:F1} KB (load f)", allocated <= 10);
        }
        else
        {
            Row("#13", AllocationTarget, "not measured in this run", null);
        }

        const string PacedTarget = "p99 on sessions at half the seed's peak ≤ 10 ms";
        if (result["paced"]?["rows"]?.AsArray().FirstOrDefault(r => r?["service"]?.GetValue<string>() == "consumer") is { } paced)
        {
            var p99 = Num(paced, "p99_ms");
            var keptUp = paced["kept_up"]!.GetValue<bool>();
            Row("#13", PacedTarget, $"{p99:F2} ms at {Num(paced, "rps"):N0} req/s{(keptUp ? "" : " (fell behind)")}", p99 <= 10 && keptUp);
        }
        else
        {
            Row("#13", PacedTarget, "not measured in this run", null);
        }

        const string RedeliveryTarget = "0 duplicate sends under 50-way redelivery";
        if (result["redelivery"]?.AsArray().FirstOrDefault(r => r?["service"]?.GetValue<string>() == "consumer") is { } redelivery)
        {
            var duplicates = Num(redelivery["count"]!, "duplicate_sends");
            Row("#13", RedeliveryTarget, $"{duplicates:F0}", duplicates == 0);
        }
        else
        {
            Row("#13", RedeliveryTarget, "not measured in this run", null);
        }

        const string MemoryTarget = "settled RSS after 1M carts ≤ 1 GiB";
        if (result["memory"] is JsonObject memory)
        {
            var settled = Num(memory, "rss_settled_mib");
            var projected = Num(memory, "projected_settled_mib_at_1m");
            var carts = Num(memory, "carts");
            // A verdict only from a run of the target's size: a small run's projection is not a measurement.
            Row("#13", MemoryTarget, $"{settled:N0} MiB after {carts:N0} carts{(carts < 1_000_000 ? $" (projected {projected:N0} at 1M)" : "")}",
                carts >= 1_000_000 ? settled <= 1024 : null);
        }
        else
        {
            Row("#13", MemoryTarget, "not in this run (bench/run.sh --memory)", null);
        }

        var warmUpTarget = $"≥ {WarmUpShare:P0} of steady req/s within 5 s of ready";
        if (result["cold"]?.AsArray().FirstOrDefault(r => r?["service"]?.GetValue<string>() == "consumer") is { } cold)
        {
            var at = NumOrNull(cold, "warm_up_first_window_at_80pct_s");
            Row("#13", warmUpTarget, at is null
                ? $"never (steady {Num(cold, "rps_median_2s"):N0} req/s)"
                : $"2 s window from {at:F0} s (steady {Num(cold, "rps_median_2s"):N0} req/s)", at <= 4);
        }
        else
        {
            Row("#13", warmUpTarget, "not measured in this run", null);
        }

        const string SingleCartTarget = "one cart: last 1,000 events/s ≥ 90 % of first";
        if (result["single_cart"] is JsonObject singleCart)
        {
            var ratio = Num(singleCart, "last_to_first");
            Row("#12", SingleCartTarget, $"{ratio:F2} ({Num(singleCart, "events_per_s_last"):N0} vs {Num(singleCart, "events_per_s_first"):N0}, {Num(singleCart, "events"):N0} events)", ratio >= 0.9);
        }
        else
        {
            Row("#12", SingleCartTarget, "not measured in this run", null);
        }

        if (result["quarantine"] is JsonObject quarantine)
        {
            Row("#12", $"RSS around {Num(quarantine, "pushes"):N0} quarantined 1 MiB pushes",
                $"{Num(quarantine, "rss_before_mib"):N0} → {Num(quarantine, "rss_after_mib"):N0} → {Num(quarantine, "rss_settled_mib"):N0} MiB", null);
        }

        return targets;
    }
}
