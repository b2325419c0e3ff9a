using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PulseCart.Bench.Driver;

/// <summary>The memory run's load: N cart.updated events for N distinct carts, so N cart grains are activated.</summary>
public static class PushCarts
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var url = new Uri(arguments.Text("url"));
        var prefix = arguments.Text("prefix");
        var count = arguments.Number("count");
        var concurrency = arguments.Number("concurrency", 64);
        var pid = arguments.Optional("pid");
        using var client = Push.Client(concurrency);

        long next = -1, ok = 0, rejected = 0, failed = 0;
        var started = Stopwatch.GetTimestamp();
        using var progress = new CancellationTokenSource();
        var reporter = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
            while (await timer.WaitForNextTickAsync(progress.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result))
            {
                var done = Interlocked.Read(ref ok) + Interlocked.Read(ref rejected) + Interlocked.Read(ref failed);
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                Console.Error.WriteLine(
                    $"push-carts: {done:N0}/{count:N0} in {seconds:F0} s ({done / seconds:F0}/s)"
                    + (pid is null ? "" : $", consumer {Rss.Read(pid)}"));
            }
        });

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            long n;
            while ((n = Interlocked.Increment(ref next)) < count)
            {
                try
                {
                    using var response = await client.SendAsync(Push.Request(url, Push.CartUpdated(prefix, n)));
                    Interlocked.Increment(ref response.IsSuccessStatusCode ? ref ok : ref rejected);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await progress.CancelAsync();
        await reporter;

        Console.WriteLine(new JsonObject
        {
            ["requests"] = count,
            ["ok"] = ok,
            ["non_2xx"] = rejected,
            ["failures"] = failed,
            ["seconds"] = Math.Round(elapsed, 1),
            ["rps"] = Math.Round(count / elapsed, 1),
        }.ToJsonString());
        return 0;
    }
}

public static class Rss
{
    /// <summary>VmRSS and VmHWM of a process, from /proc/PID/status.</summary>
    public static string Read(string pid)
    {
        try
        {
            var lines = File.ReadAllLines($"/proc/{pid}/status");
            string Field(string name) => lines.FirstOrDefault(line => line.StartsWith(name, StringComparison.Ordinal))?[(name.Length + 1)..].Trim() ?? "?";
            return $"VmRSS {Field("VmRSS")}, VmHWM {Field("VmHWM")}";
        }
        catch (IOException)
        {
            return "gone";
        }
    }

    /// <summary>One field of /proc/PID/status (VmRSS, VmHWM) in MiB; null when the process is gone.</summary>
    public static double? Mib(string pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(line => line.StartsWith(field + ":", StringComparison.Ordinal));
            var kib = line?[(field.Length + 1)..].Trim().Split(' ')[0];
            return kib is null ? null : Math.Round(double.Parse(kib, System.Globalization.CultureInfo.InvariantCulture) / 1024, 1);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
