using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PulseCart.Bench.Driver;

/// <summary>
/// Issue 12's single-cart rate: N distinct cart.updated events for ONE cart, occurred_at increasing, over a few
/// connections. The cart's dedup bookkeeping grows with every event (up to PulseCart:Dedup:MaxEventIdsPerGrain), so
/// the rate of the last events against the first shows whether its cost per event grows with what it remembers.
/// </summary>
public static class SingleCart
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var url = new Uri(arguments.Text("url"));
        var prefix = arguments.Text("prefix");
        var events = arguments.Number("events", 50_000);
        var concurrency = arguments.Number("concurrency", 4);
        var window = Math.Min(arguments.Number("window", 1_000), events);
        var cartId = prefix + "cart";
        var firstAt = DateTimeOffset.UtcNow.AddDays(-1);
        using var client = Push.Client(concurrency);

        var completedAt = new long[events];
        long next = -1, completed = -1, failures = 0;
        var statuses = new ConcurrentDictionary<int, int>();
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var started = Stopwatch.GetTimestamp();
        using var progress = new CancellationTokenSource();
        var reporter = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
            while (await timer.WaitForNextTickAsync(progress.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result))
            {
                var done = Interlocked.Read(ref completed) + 1;
                Console.Error.WriteLine($"single-cart: {done:N0}/{events:N0} in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");
            }
        });

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            long n;
            while ((n = Interlocked.Increment(ref next)) < events)
            {
                var body = Push.CartUpdated($"{prefix}e{n}", cartId, prefix + "u", firstAt.AddMilliseconds(n));
                try
                {
                    using var response = await client.SendAsync(Push.Request(url, body));
                    statuses.AddOrUpdate((int)response.StatusCode, 1, (_, count) => count + 1);
                    var outcome = response.Headers.TryGetValues("X-PulseCart-Outcome", out var values) ? values.First() : "none";
                    outcomes.AddOrUpdate(outcome, 1, (_, count) => count + 1);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }

                completedAt[Interlocked.Increment(ref completed)] = Stopwatch.GetTimestamp();
            }
        }));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await progress.CancelAsync();
        await reporter;

        // Events per second over the `window` events that completed last up to the `end`-th completion.
        double RateUpTo(int end)
        {
            var from = end - window >= 0 ? completedAt[end - window] : started;
            return window / Stopwatch.GetElapsedTime(from, completedAt[end - 1]).TotalSeconds;
        }

        var first = RateUpTo(window);
        var last = RateUpTo(events);
        var result = new JsonObject
        {
            ["cart_id"] = cartId,
            ["events"] = events,
            ["concurrency"] = concurrency,
            ["window"] = window,
            ["seconds"] = Math.Round(seconds, 1),
            ["events_per_s_first"] = Math.Round(first, 1),
            ["events_per_s_at_10000"] = events >= 10_000 ? Math.Round(RateUpTo(10_000), 1) : null,
            ["events_per_s_last"] = Math.Round(last, 1),
            ["last_to_first"] = Math.Round(last / first, 3),
            ["statuses"] = ToJson(statuses.ToDictionary(entry => entry.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), entry => entry.Value)),
            ["outcomes"] = ToJson(outcomes.ToDictionary()),
            ["non_2xx"] = statuses.Where(entry => entry.Key is < 200 or > 299).Sum(entry => entry.Value),
            ["failures"] = failures,
        };
        Console.WriteLine(result.ToJsonString());
        return 0;
    }

    public static JsonObject ToJson(IDictionary<string, int> counts)
    {
        var json = new JsonObject();
        foreach (var (key, count) in counts.OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            json[key] = count;
        }

        return json;
    }
}
