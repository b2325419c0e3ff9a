using System.Text.Json;
using System.Text.Json.Nodes;

namespace PulseCart.Bench.Driver;

/// <summary>Counts, in a message file, the sends of each order_confirmation key a redelivery run expects.</summary>
public static class SendCount
{
    public static int Run(Arguments arguments)
    {
        var prefix = arguments.Text("prefix");
        var events = arguments.Number("events");
        var expected = Enumerable.Range(0, events).Select(n => Push.OrderConfirmationKey(prefix, n)).ToHashSet(StringComparer.Ordinal);
        var sends = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = arguments.Text("file");
        if (File.Exists(path))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                // Cheap filter first: the file also holds every other load's messages.
                if (!line.Contains(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var key = JsonDocument.Parse(line).RootElement.GetProperty("idempotency_key").GetString()!;
                if (expected.Contains(key))
                {
                    sends[key] = sends.GetValueOrDefault(key) + 1;
                }
            }
        }

        Console.WriteLine(new JsonObject
        {
            ["expected_keys"] = events,
            ["lines"] = sends.Values.Sum(),
            ["keys_sent"] = sends.Count,
            ["keys_sent_more_than_once"] = sends.Values.Count(count => count > 1),
            ["duplicate_sends"] = sends.Values.Sum(count => count - 1),
            ["max_sends_per_key"] = sends.Count == 0 ? 0 : sends.Values.Max(),
            ["keys_never_sent"] = events - sends.Count,
        }.ToJsonString());
        return 0;
    }
}
