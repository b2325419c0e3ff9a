using StackExchange.Redis;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// Listing the quarantine in Redis reads the start of each body, not the body: the operator page, which lists a
/// hundred entries every 5 s, costs the same whether they are a few bytes or a megabyte each.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisQuarantineListingTests(RedisFixture redis)
{
    [Fact]
    public async Task AListingOfMegabyteBodiesReadsOnlyTheirPreviewsFromRedis()
    {
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString });
        var client = consumer.CreateClient();

        // Twenty unusable deliveries of a megabyte each: 2,047 ASCII characters, then a three-byte character that the
        // 2 KiB preview would cut in half.
        var source = Push.NewId("big");
        var bodies = Enumerable.Range(0, 20)
            .Select(i => $"{source}-{i:D2}|".PadRight(2_047, 'a') + "€" + new string('b', 1_000_000))
            .ToList();
        foreach (var body in bodies)
        {
            Assert.Equal("quarantined", (await client.SendAsync(body)).Outcome());
        }

        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var sentBefore = await SentByRedisAsync(connection);
        var page = (await client.GetJsonAsync("/ops/quarantine?limit=100")).GetProperty("entries").EnumerateArray().ToList();
        var filtered = await client.EntriesAsync("source=push");
        var sent = await SentByRedisAsync(connection) - sentBefore;

        // Two listings of twenty megabytes of bodies: what Redis sent is their previews and the entries' metadata.
        Assert.InRange(sent, 1, 2_000_000);
        foreach (var listing in new[] { page, filtered })
        {
            var previews = listing.Select(entry => entry.GetProperty("body_preview").GetString()!).Where(preview => preview.StartsWith(source, StringComparison.Ordinal)).ToList();
            Assert.Equal(bodies.Select(body => body[..2_047]).Order(), previews.Order());
        }

        Assert.All(page.Where(entry => entry.GetProperty("body_preview").GetString()!.StartsWith(source, StringComparison.Ordinal)), entry =>
        {
            Assert.Equal(2_047 + 3 + 1_000_000, entry.GetProperty("body_bytes").GetInt32());
            Assert.Equal("utf-8", entry.GetProperty("body_encoding").GetString());
            Assert.True(entry.GetProperty("body_truncated").GetBoolean());
        });

        // The whole body is still there, byte for byte.
        var first = page.First(entry => entry.GetProperty("body_preview").GetString()!.StartsWith(source, StringComparison.Ordinal));
        Assert.Contains(await client.GetStringAsync($"/ops/quarantine/{first.GetProperty("id").GetString()}/body"), bodies);
    }

    [Fact]
    public async Task AnEntryAnEarlierVersionChangedListsItsBodysTrueLength()
    {
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString });
        var client = consumer.CreateClient();

        // Earlier versions wrote body_bytes 0 back whenever an operator changed an entry (they read it without its body).
        var (id, body) = (Guid.NewGuid().ToString("N"), new string('x', 5_000));
        var metadata = $$"""{"id":"{{id}}","received_at":"{{DateTimeOffset.UtcNow:O}}","source":"push","reason":"message.data is not valid base64","edited_bytes":0,"discarded_at":"{{DateTimeOffset.UtcNow:O}}","discarded_by":"someone","body_bytes":0}""";
        await redis.PutQuarantineEntryAsync(id, metadata, body);

        var entry = (await client.QuarantinedAsync()).Single(e => e.GetProperty("id").GetString() == id);

        Assert.Equal(5_000, entry.GetProperty("body_bytes").GetInt32());
        Assert.True(entry.GetProperty("body_truncated").GetBoolean());
        Assert.Equal(body[..2_048], entry.GetProperty("body_preview").GetString());
    }

    private static async Task<long> SentByRedisAsync(ConnectionMultiplexer connection)
    {
        var info = (string)(await connection.GetDatabase().ExecuteAsync("INFO", "stats"))!;
        var line = info.Split("\r\n").Single(l => l.StartsWith("total_net_output_bytes:", StringComparison.Ordinal));
        return long.Parse(line["total_net_output_bytes:".Length..]);
    }
}
