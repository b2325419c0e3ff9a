using System.Net;

namespace PulseCart.Consumer.Tests;

/// <summary>The pause switch in Redis: every instance sees it, and an instance that starts while paused holds back too.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisPauseTests(RedisFixture redis)
{
    [Fact]
    public async Task PauseIsSharedByEveryInstanceAndKeptAcrossRestarts()
    {
        var settings = new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString };
        await using var first = new ConsumerFactory(settings);
        await using var second = new ConsumerFactory(settings);
        var one = first.CreateClient();
        var two = second.CreateClient();
        Assert.False((await two.GetJsonAsync("/ops/pause?live=false")).GetProperty("paused").GetBoolean());
        try
        {
            using var paused = await one.PostAsync("/ops/pause", null);
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
            var since = (await paused.JsonAsync()).GetProperty("since").GetString();

            var seen = await two.GetJsonAsync("/ops/pause?live=false");
            Assert.True(seen.GetProperty("paused").GetBoolean());
            Assert.Equal((since, "token"), (seen.GetProperty("since").GetString(), seen.GetProperty("by").GetString()));

            // An instance started while paused says so and applies the pause to what it serves (here, its own twins).
            await using var third = new ConsumerFactory(settings);
            var three = third.CreateClient();
            Assert.Equal(since, (await three.GetJsonAsync("/ops/pause?live=false")).GetProperty("since").GetString());
            for (var attempt = 0; attempt < 100 && (await three.QueueStateAsync() != "PAUSED"
                || (await three.SubscriptionAsync()).GetProperty("pushConfig").TryGetProperty("pushEndpoint", out _)); attempt++)
            {
                await Task.Delay(100);
            }

            Assert.Equal("PAUSED", await three.QueueStateAsync());
            Assert.False((await three.SubscriptionAsync()).GetProperty("pushConfig").TryGetProperty("pushEndpoint", out _));
            Assert.Contains(third.Logs.Lines, line => line.Contains("Deliveries are paused since", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.OK, (await three.GetAsync("/health/ready")).StatusCode);

            Assert.Equal(HttpStatusCode.OK, (await two.PostAsync("/ops/resume", null)).StatusCode);
            Assert.False((await one.GetJsonAsync("/ops/pause?live=false")).GetProperty("paused").GetBoolean());
        }
        finally
        {
            await one.PostAsync("/ops/resume", null);
        }
    }
}
