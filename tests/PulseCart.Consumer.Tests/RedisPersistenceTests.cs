using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using PulseCart.Grains.Persistence;
using StackExchange.Redis;

namespace PulseCart.Consumer.Tests;

[Collection(RedisCollection.Name)]
public sealed class RedisPersistenceTests(RedisFixture redis)
{
    private Dictionary<string, string?> RedisSettings => new() { ["PulseCart:Redis"] = redis.Server.ConnectionString };

    [Fact]
    public async Task StateSurvivesARestartAndARedeliveryAfterItIsStillADuplicate()
    {
        var order = Push.NewId("o");
        var cart = Push.NewId("c");
        var placed = Push.OrderPlaced(Push.NewId("e"), order, "u-1", cartId: cart);
        var messages = Path.Combine(Directory.CreateTempSubdirectory().FullName, "messages.jsonl");

        await using (var first = new ConsumerFactory(RedisSettings, messages))
        {
            Assert.Equal("processed", (await first.CreateClient().PushAsync(placed)).Outcome());
        }

        await using var second = new ConsumerFactory(RedisSettings, messages);
        var client = second.CreateClient();
        var redelivered = await client.PushAsync(placed);

        Assert.Equal("duplicate", redelivered.Outcome());
        Assert.Single(second.SentWithKey($"order_confirmation:{order}"));
        var view = await client.GetJsonAsync($"/ops/carts/{cart}");
        Assert.Equal("purchased", view.GetProperty("status").GetString());

        // Stored under the service id every cluster mode uses, so a move from one silo to a cluster finds these carts.
        await using var redisClient = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var keys = redisClient.GetServer(redisClient.GetEndPoints()[0]).Keys(pattern: "pulsecart/state/*").Select(key => key.ToString()).ToList();
        Assert.Contains(keys, key => key.Contains(cart));
    }

    [Theory]
    [InlineData("json")]
    [InlineData("binary")]
    public async Task StateAnEarlierVersionStoredStillCountsAfterTheUpgrade(string format)
    {
        var order = Push.NewId("o");
        var cart = Push.NewId("c");
        var placed = Push.OrderPlaced(Push.NewId("e"), order, "u-1", cartId: cart);
        var messages = Path.Combine(Directory.CreateTempSubdirectory().FullName, "messages.jsonl");

        // Earlier releases kept state with Orleans' Redis provider: its default Newtonsoft JSON with type names, then
        // Orleans' binary format.
        await using (var earlier = new ConsumerFactory(RedisSettings, messages, services: services => services
            .AddRedisGrainStorage(GrainStorage.Name, storage => storage
                .Configure(options => options.ConfigurationOptions = ConfigurationOptions.Parse(redis.Server.ConnectionString))
                .Configure<Serializer, IGrainStorageSerializer>((options, binary, json) =>
                    options.GrainStorageSerializer = format == "json" ? json : new GrainStateSerializer(binary, json)))))
        {
            Assert.Equal("processed", (await earlier.CreateClient().PushAsync(placed)).Outcome());
        }

        var stored = await StoredHashAsync(order);
        Assert.Equal(format == "json", ((byte[])stored["data"]!)[0] == (byte)'{');

        await using var upgraded = new ConsumerFactory(RedisSettings, messages);
        var client = upgraded.CreateClient();
        Assert.Equal("duplicate", (await client.PushAsync(placed)).Outcome());
        Assert.Single(upgraded.SentWithKey($"order_confirmation:{order}"));
        Assert.Equal("purchased", (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("status").GetString());

        // The order's next write stores it in the current format, and it still reads after a restart.
        Assert.Equal("processed", (await client.PushAsync(Push.PaymentFailed(Push.NewId("e"), order, "u-1"))).Outcome());
        var rewritten = await StoredHashAsync(order);
        Assert.False(rewritten.ContainsKey("data"));
        Assert.Equal("1", rewritten["v"]);
        Assert.Equal(2, rewritten.Keys.Count(field => field.StartsWith("e:", StringComparison.Ordinal)));
        await using var restarted = new ConsumerFactory(RedisSettings, messages);
        var view = await restarted.CreateClient().GetJsonAsync($"/ops/orders/{order}");
        Assert.Equal(1, view.GetProperty("payment_failures").GetInt32());
        Assert.Equal(2, view.GetProperty("remembered_event_ids").GetInt32());
        Assert.Single(view.GetProperty("messages").EnumerateArray(), message =>
            message.GetProperty("idempotency_key").GetString() == $"order_confirmation:{order}");
    }

    [Fact]
    public async Task EachEventAddsOnlyItsOwnFieldsInsteadOfRewritingEveryIdTheOrderRemembers()
    {
        var order = Push.NewId("o");
        await using var consumer = new ConsumerFactory(RedisSettings);
        var client = consumer.CreateClient();
        Assert.Equal("processed", (await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1"))).Outcome());
        for (var i = 1; i < 50; i++)
        {
            Assert.Equal("processed", (await client.PushAsync(Push.PaymentFailed(Push.NewId("e"), order, "u-1"))).Outcome());
        }

        var stored = await StoredHashAsync(order);

        // One id and one message key per event, and a record that does not grow with them.
        Assert.Equal(50, stored.Keys.Count(field => field.StartsWith("e:", StringComparison.Ordinal)));
        Assert.Equal(50, stored.Keys.Count(field => field.StartsWith("m:", StringComparison.Ordinal)));
        Assert.Equal("50", stored["v"]);
        Assert.True(((byte[])stored["r"]!).Length < 200);
    }

    [Fact]
    public async Task ACartKeepsNoIdPerUpdateAndStillKnowsItsNewestUpdateAfterARestart()
    {
        var cart = Push.NewId("c");
        var updates = Enumerable.Range(0, 50).Select(i => Push.CartUpdated(Push.NewId("e"), cart, "u-1", Push.T0.AddSeconds(i))).ToList();
        await using (var first = new ConsumerFactory(RedisSettings))
        {
            var client = first.CreateClient();
            foreach (var update in updates)
            {
                Assert.Equal("processed", (await client.PushAsync(update)).Outcome());
            }
        }

        var stored = await StoredHashAsync(cart);
        Assert.DoesNotContain(stored.Keys, field => field.StartsWith("e:", StringComparison.Ordinal));
        Assert.Equal("50", stored["v"]);

        // A fresh process knows nothing of these deliveries but what Redis holds: the newest update again is a duplicate,
        // an older one stale, and neither is written.
        await using var restarted = new ConsumerFactory(RedisSettings);
        var again = restarted.CreateClient();
        Assert.Equal("duplicate", (await again.PushAsync(updates[^1])).Outcome());
        Assert.Equal("stale", (await again.PushAsync(updates[10])).Outcome());
        Assert.Equal("50", (await StoredHashAsync(cart))["v"]);
        Assert.Equal(Push.T0.AddSeconds(49), (await again.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("last_activity_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task UpdateIdsAnEarlierVersionRememberedStillCountAfterTheUpgrade()
    {
        // The cart as the release before this rule stored it: record format 1, and an id per update.
        var cart = Push.NewId("c");
        var remembered = Push.CartUpdated(Push.NewId("e"), cart, "u-1", Push.T0);
        var record = new RecordWriter();
        record.Byte(1);
        record.String("u-1");
        record.Time(Push.T0);
        record.Time(null);
        record.Time(null);
        record.String(null);
        record.Byte(0);
        await using (var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString))
        {
            await connection.GetDatabase().HashSetAsync($"pulsecart/state/cart/{cart}/cart",
            [
                new HashEntry("v", "3"),
                new HashEntry("r", record.Written.ToArray()),
                new HashEntry("e:" + remembered["event_id"]!.GetValue<string>(), Push.T0.UtcTicks),
            ]);
        }

        await using var upgraded = new ConsumerFactory(RedisSettings);
        var client = upgraded.CreateClient();
        Assert.Equal("duplicate", (await client.PushAsync(remembered)).Outcome());
        Assert.Equal("processed", (await client.PushAsync(Push.CartUpdated(Push.NewId("e"), cart, "u-1", Push.T0.AddMinutes(1)))).Outcome());

        var stored = await StoredHashAsync(cart);
        Assert.Equal("4", stored["v"]);
        Assert.Single(stored.Keys, field => field.StartsWith("e:", StringComparison.Ordinal));
        var view = await client.GetJsonAsync($"/ops/carts/{cart}");
        Assert.Equal("u-1", view.GetProperty("user_id").GetString());
        Assert.Equal(Push.T0.AddMinutes(1), view.GetProperty("last_activity_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task QuarantineSurvivesARestart()
    {
        var body = Push.EnvelopeOfData("not-base64-" + Guid.NewGuid().ToString("N"));
        await using (var first = new ConsumerFactory(RedisSettings))
        {
            Assert.Equal("quarantined", (await first.CreateClient().SendAsync(body)).Outcome());
        }

        await using var second = new ConsumerFactory(RedisSettings);
        var entries = await second.CreateClient().QuarantinedAsync();

        Assert.Contains(entries, entry => entry.GetProperty("body_preview").GetString() == body);
    }

    [Fact]
    public async Task RedisOutageAnswers5xxAndProcessingResumesWhenItReturns()
    {
        await using var consumer = new ConsumerFactory(RedisSettings);
        var client = consumer.CreateClient();
        var order = Push.NewId("o");
        var placed = Push.OrderPlaced(Push.NewId("e"), order, "u-1");

        await redis.Server.StopAsync();
        try
        {
            var duringOutage = await client.PushAsync(placed);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, duringOutage.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        }
        finally
        {
            await redis.Server.StartAgainAsync();
        }

        var afterwards = await RetryUntilAcknowledgedAsync(client, placed);
        Assert.Equal("processed", afterwards.Outcome());
        Assert.Single(consumer.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task AWriteOfMoreMembersThanOneCommandTakesStoresThemAllAndKeepsTheVersionCheck()
    {
        // An upgraded cart writes every id it remembers at once: more than one HSET's worth of members.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var store = new RedisStateStore(connection);
        var key = $"pulsecart/test/{Push.NewId("big")}";
        var members = Enumerable.Range(0, 1_200).Select(i => new StoredKey(1, $"e-{i}", 1_000 + i)).ToArray();

        Assert.True(await store.WriteAsync(key, new StateWrite("", "1", new byte[] { 1, 2 }, members, [], ReplaceAll: true)));
        Assert.True(await store.WriteAsync(key, new StateWrite("1", "2", new byte[] { 3 }, [new StoredKey(2, "m-1", 7)], members[..600], ReplaceAll: false)));
        Assert.False(await store.WriteAsync(key, new StateWrite("1", "2", new byte[] { 4 }, [], [], ReplaceAll: false)));
        Assert.False(await store.WriteAsync(key, new StateWrite("", "1", new byte[] { 5 }, [], [], ReplaceAll: true)));

        var stored = await store.ReadAsync(key);
        Assert.NotNull(stored);
        Assert.Equal("2", stored.Version);
        Assert.Equal(new byte[] { 3 }, stored.Record.ToArray());
        Assert.Equal(
            members[600..].Append(new StoredKey(2, "m-1", 7)).OrderBy(member => member.Key),
            stored.Keys.OrderBy(member => member.Key));
    }

    private async Task<Dictionary<string, RedisValue>> StoredHashAsync(string grainKey)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var key = connection.GetServer(connection.GetEndPoints()[0]).Keys(pattern: $"pulsecart/state/*{grainKey}*").Single();
        return (await connection.GetDatabase().HashGetAllAsync(key)).ToDictionary(entry => entry.Name.ToString(), entry => entry.Value);
    }

    // As Pub/Sub would: keep redelivering until the consumer acknowledges.
    private static async Task<HttpResponseMessage> RetryUntilAcknowledgedAsync(HttpClient client, System.Text.Json.Nodes.JsonNode @event)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await client.PushAsync(@event);
            if (response.StatusCode == HttpStatusCode.NoContent || DateTime.UtcNow > deadline)
            {
                return response;
            }

            await Task.Delay(250);
        }
    }
}
