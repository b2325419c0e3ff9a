using System.Net;

namespace PulseCart.Consumer.Tests;

/// <summary>The warm-up pass: readiness waits for it, and it leaves no trace an operator would take for real traffic.</summary>
public sealed class WarmUpTests
{
    [Fact]
    public async Task ReadinessWaitsForTheWarmUpWhichSendsNothingAndCountsNothing()
    {
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?> { ["PulseCart:WarmUp:Carts"] = "40" });
        var client = consumer.CreateClient();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpStatusCode ready;
        while ((ready = (await client.GetAsync("/health/ready")).StatusCode) != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.OK, ready);
        Assert.Contains(consumer.Logs.Lines, line => line.Contains("Warm-up: 160 synthetic deliveries"));
        foreach (var cart in new[] { 0, 39 })
        {
            // Two events remembered per cart: the first, its redelivery answered as a duplicate, and the second.
            var state = await client.GetJsonAsync($"/ops/carts/{Hosting.WarmUp.CartPrefix}{cart}");
            Assert.Equal(2, state.GetProperty("remembered_event_ids").GetInt32());
        }

        Assert.Empty(consumer.SentMessages());
        Assert.Empty(await client.QuarantinedAsync());
        var summary = await client.GetJsonAsync("/ops/summary");
        Assert.Empty(summary.GetProperty("recent_events").EnumerateArray());
    }
}
