using System.Net;
using PulseCart.Grains.Persistence;
using StackExchange.Redis;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// State in Redis that no version of the consumer could have written (edited by hand, another program's key, a bad
/// restore): the delivery it concerns is quarantined, never retried forever, never taken for a duplicate, and no other
/// cart or order read at the same moment fails with it.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class CorruptStateTests(RedisFixture redis)
{
    private Dictionary<string, string?> RedisSettings => new() { ["PulseCart:Redis"] = redis.Server.ConnectionString };

    [Fact]
    public async Task AnOrderWithAnUnreadableVersionIsQuarantinedAndProcessedOnceRepaired()
    {
        await using var consumer = new ConsumerFactory(RedisSettings);
        var client = consumer.CreateClient();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var order = Push.NewId("o");
        Assert.Equal("processed", (await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1"))).Outcome());
        var key = KeyOf(connection, order);

        await connection.GetDatabase().HashSetAsync(key, "v", "abc");
        var failed = Push.PaymentFailed(Push.NewId("e"), order, "u-1");
        var whileCorrupt = await client.PushAsync(failed);
        var again = await client.PushAsync(failed);

        Assert.Equal(HttpStatusCode.NoContent, whileCorrupt.StatusCode);
        Assert.Equal("quarantined", whileCorrupt.Outcome());
        Assert.Equal("quarantined", again.Outcome());
        Assert.Contains(await client.QuarantinedAsync(), entry => entry.GetProperty("reason").GetString()!.Contains("'abc' is not a number"));
        Assert.Empty(consumer.SentWithKey($"payment_retry:{failed["event_id"]}"));

        // Repaired by an operator, the same event is processed, not taken for one already handled.
        await connection.GetDatabase().HashSetAsync(key, "v", "1");
        var repaired = await client.PushAsync(failed, Push.NewId("m"));

        Assert.Equal("processed", repaired.Outcome());
        Assert.Single(consumer.SentWithKey($"payment_retry:{failed["event_id"]}"));
    }

    [Fact]
    public async Task ACartKeyThatIsNotAHashOrHasNoVersionIsQuarantinedEveryTime()
    {
        await using var consumer = new ConsumerFactory(RedisSettings);
        var client = consumer.CreateClient();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var healthy = Push.NewId("c");
        Assert.Equal("processed", (await client.PushAsync(Push.CartUpdated(Push.NewId("e"), healthy, "u-1", Push.T0))).Outcome());
        var healthyKey = KeyOf(connection, healthy).ToString();
        string notAHash = Push.NewId("c"), noVersion = Push.NewId("c");
        await connection.GetDatabase().StringSetAsync(healthyKey.Replace(healthy, notAHash), "garbage");
        await connection.GetDatabase().HashSetAsync(healthyKey.Replace(healthy, noVersion), "r", new byte[] { 1, 0, 0, 0 });

        foreach (var cart in new[] { notAHash, noVersion })
        {
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var answer = await client.PushAsync(Push.CartUpdated(Push.NewId("e"), cart, "u-1", Push.T0.AddMinutes(attempt)));
                Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
                Assert.Equal("quarantined", answer.Outcome());
            }
        }
    }

    [Fact]
    public async Task OneUnreadableKeyFailsOnlyItsOwnReadInABatch()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var db = connection.GetDatabase();
        var prefix = $"corrupt-test/{Guid.NewGuid():N}/";
        await db.StringSetAsync(prefix + "string", "garbage");
        await db.HashSetAsync(prefix + "bad-member", [new("v", "1"), new("r", new byte[] { 1 }), new("e:x", "not ticks")]);
        await db.HashSetAsync(prefix + "short-field", [new("v", "1"), new("r", new byte[] { 1 }), new("e", "1")]);
        await db.HashSetAsync(prefix + "both-formats", [new("data", new byte[] { 1 }), new("v", "7")]);
        await db.HashSetAsync(prefix + "etag-without-data", [new("etag", "7"), new("r", new byte[] { 1 })]);
        await db.HashSetAsync(prefix + "good", [new("v", "3"), new("r", new byte[] { 1 }), new("e:id-1", "638000000000000000")]);
        await db.HashSetAsync(prefix + "good-legacy", [new("etag", "5"), new("data", new byte[] { 1 })]);
        var store = new RedisStateStore(connection);

        // The first read goes at once; the seven behind it leave together, as one script.
        var first = store.ReadAsync(prefix + "absent");
        var corrupt = new[] { "string", "bad-member", "short-field", "both-formats", "etag-without-data" };
        var reads = corrupt.Append("good").Append("good-legacy").ToDictionary(name => name, name => store.ReadAsync(prefix + name));
        Assert.Null(await first);

        var good = await reads["good"];
        Assert.Equal("3", good!.Version);
        Assert.Equal("id-1", Assert.Single(good.Keys).Key);
        Assert.Equal("5", (await reads["good-legacy"])!.Version);
        foreach (var name in corrupt)
        {
            var failure = await Assert.ThrowsAsync<CorruptStateException>(() => reads[name]);
            Assert.Contains(prefix + name, failure.Message);
        }
    }

    private static RedisKey KeyOf(IConnectionMultiplexer connection, string id) =>
        connection.GetServer(connection.GetEndPoints()[0]).Keys(pattern: $"pulsecart/state/*{id}*").Single();
}
