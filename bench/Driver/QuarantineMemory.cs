using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace PulseCart.Bench.Driver;

/// <summary>
/// Issue 12's quarantine memory: N unusable pushes of about 1 MiB each (a wrapped envelope whose data is not base64,
/// padded in an attribute to just under PulseCart:Push:MaxBodyBytes), and the consumer's RSS before, right after and
/// some seconds later. Each is acknowledged and quarantined; what the quarantine keeps of them is what RSS shows.
/// </summary>
public static class QuarantineMemory
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var url = new Uri(arguments.Text("url"));
        var prefix = arguments.Text("prefix");
        var count = arguments.Number("count", 500);
        var size = arguments.Number("size", 1_048_000);
        var concurrency = arguments.Number("concurrency", 4);
        var settle = arguments.Number("settle", 30);
        var pid = arguments.Text("pid");
        using var client = Push.Client(concurrency);

        var before = Rss.Mib(pid, "VmRSS");
        long next = -1, failures = 0;
        var statuses = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            long n;
            while ((n = Interlocked.Increment(ref next)) < count)
            {
                try
                {
                    using var response = await client.SendAsync(Push.Request(url, Unusable($"{prefix}q{n}", size)));
                    statuses.AddOrUpdate(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, c) => c + 1);
                    var outcome = response.Headers.TryGetValues("X-PulseCart-Outcome", out var values) ? values.First() : "none";
                    outcomes.AddOrUpdate(outcome, 1, (_, c) => c + 1);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var after = Rss.Mib(pid, "VmRSS");
        await Task.Delay(TimeSpan.FromSeconds(settle));
        var settled = Rss.Mib(pid, "VmRSS");

        Console.WriteLine(new JsonObject
        {
            ["pushes"] = count,
            ["body_bytes"] = size,
            ["seconds"] = Math.Round(seconds, 1),
            ["statuses"] = SingleCart.ToJson(statuses),
            ["outcomes"] = SingleCart.ToJson(outcomes),
            ["non_2xx"] = statuses.Where(entry => entry.Key[0] != '2').Sum(entry => entry.Value),
            ["failures"] = failures,
            ["rss_before_mib"] = before,
            ["rss_after_mib"] = after,
            ["settle_s"] = settle,
            ["rss_settled_mib"] = settled,
            ["peak_rss_mib"] = Rss.Mib(pid, "VmHWM"),
        }.ToJsonString());
        return 0;
    }

    /// <summary>A wrapped envelope of exactly <paramref name="size"/> bytes whose data is not base64.</summary>
    private static byte[] Unusable(string messageId, int size)
    {
        var head = $"{{\"message\":{{\"data\":\"%%% not base64 %%%\",\"messageId\":\"{messageId}\",\"attributes\":{{\"pad\":\"";
        const string Tail = "\"}},\"subscription\":\"projects/pulsecart/subscriptions/bench\"}";
        var padding = size - Encoding.UTF8.GetByteCount(head) - Tail.Length;
        return Encoding.UTF8.GetBytes(head + new string('x', Math.Max(0, padding)) + Tail);
    }
}
