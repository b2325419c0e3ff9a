using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Persistence;
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

    [Fact]
    public async Task StateAnEarlierVersionStoredAsJsonStillCountsAfterTheUpgrade()
    {
        var order = Push.NewId("o");
        var cart = Push.NewId("c");
        var placed = Push.OrderPlaced(Push.NewId("e"), order, "u-1", cartId: cart);
        var messages = Path.Combine(Directory.CreateTempSubdirectory().FullName, "messages.jsonl");

        // The releases before the binary state format stored Orleans' default: Newtonsoft JSON with type names.
        await using (var earlier = new ConsumerFactory(RedisSettings, messages, services: services => services
            .AddOptions<RedisStorageOptions>(GrainStorage.Name)
            .PostConfigure<IGrainStorageSerializer>((options, json) => options.GrainStorageSerializer = json)))
        {
            Assert.Equal("processed", (await earlier.CreateClient().PushAsync(placed)).Outcome());
        }

        Assert.Equal((byte)'{', (await StoredStateAsync(order)).Span[0]);

        await using var upgraded = new ConsumerFactory(RedisSettings, messages);
        var client = upgraded.CreateClient();
        Assert.Equal("duplicate", (await client.PushAsync(placed)).Outcome());
        Assert.Single(upgraded.SentWithKey($"order_confirmation:{order}"));
        Assert.Equal("purchased", (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("status").GetString());

        // The order's next write stores it in the current format, and it still reads after a restart.
        Assert.Equal("processed", (await client.PushAsync(Push.PaymentFailed(Push.NewId("e"), order, "u-1"))).Outcome());
        Assert.NotEqual((byte)'{', (await StoredStateAsync(order)).Span[0]);
        await using var restarted = new ConsumerFactory(RedisSettings, messages);
        var view = await restarted.CreateClient().GetJsonAsync($"/ops/orders/{order}");
        Assert.Equal(1, view.GetProperty("payment_failures").GetInt32());
        Assert.Equal(2, view.GetProperty("remembered_event_ids").GetInt32());
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

    private async Task<ReadOnlyMemory<byte>> StoredStateAsync(string grainKey)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var key = connection.GetServer(connection.GetEndPoints()[0]).Keys(pattern: $"pulsecart/state/*{grainKey}*").Single();
        byte[]? data = await connection.GetDatabase().HashGetAsync(key, "data");
        return Assert.IsType<byte[]>(data);
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
