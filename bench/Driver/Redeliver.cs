using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PulseCart.Bench.Driver;

/// <summary>
/// Load (d): each of N distinct order.placed events is delivered C times at once, over C already-open
/// connections, released together by one gate: the redelivery storm the seed's GET-then-SET cannot survive.
/// </summary>
public static class Redeliver
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var url = new Uri(arguments.Text("url"));
        var prefix = arguments.Text("prefix");
        var events = arguments.Number("events");
        var copies = arguments.Number("copies", 50);
        using var client = Push.Client(copies);

        // Open every connection first, so the copies of an event race each other and not the TCP handshakes.
        var warm = new Uri(url, "/bench-warm-up");
        await Task.WhenAll(Enumerable.Range(0, copies).Select(_ => client.GetAsync(warm)));

        var statuses = new Dictionary<int, int>();
        var failures = 0;
        var started = Stopwatch.GetTimestamp();
        for (var n = 0; n < events; n++)
        {
            var body = Push.OrderPlaced(prefix, n);
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var sends = Enumerable.Range(0, copies).Select(async _ =>
            {
                await gate.Task;
                try
                {
                    using var response = await client.SendAsync(Push.Request(url, body));
                    return (int)response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    return -1;
                }
            }).ToList();
            gate.SetResult();
            foreach (var status in await Task.WhenAll(sends))
            {
                if (status < 0)
                {
                    failures++;
                }
                else
                {
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                }
            }
        }

        var statusObject = new JsonObject();
        foreach (var (status, count) in statuses.OrderBy(entry => entry.Key))
        {
            statusObject[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = count;
        }

        Console.WriteLine(new JsonObject
        {
            ["events"] = events,
            ["copies"] = copies,
            ["requests"] = events * copies,
            ["seconds"] = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3),
            ["statuses"] = statusObject,
            ["non_2xx"] = statuses.Where(entry => entry.Key is < 200 or > 299).Sum(entry => entry.Value),
            ["failures"] = failures,
        }.ToJsonString());
        return 0;
    }
}
