using System.Net;

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
        await using var redisClient = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var keys = redisClient.GetServer(redisClient.GetEndPoints()[0]).Keys(pattern: "pulsecart/state/*").Select(key => key.ToString()).ToList();
        Assert.Contains(keys, key => key.Contains(cart));
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
        var entries = await second.CreateClient().GetJsonAsync("/ops/quarantine?limit=1000");

        Assert.Contains(entries.EnumerateArray(), entry => entry.GetProperty("raw_body").GetString() == body);
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
