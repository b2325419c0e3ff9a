using Microsoft.Extensions.DependencyInjection;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// Idle carts and orders leave memory: the silo's working set (<c>UnscannedWorkingSet</c>) still hands every new grain
/// to Orleans' collector, which retires the idle ones.
/// </summary>
public sealed class IdleGrainCollectionTests
{
    [Fact]
    public async Task IdleCartsAndOrdersAreDeactivatedWhenCollected()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var management = consumer.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var before = await management.GetTotalActivationCount();

        const int orders = 5;
        for (var i = 0; i < orders; i++)
        {
            var answer = await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1", Push.NewId("c")));
            Assert.Equal("processed", answer.Outcome());
        }

        // A cart and an order per event.
        var active = await management.GetTotalActivationCount();
        Assert.True(active >= before + 2 * orders, $"{active} activations after {orders} orders, {before} before");

        await management.ForceActivationCollection(TimeSpan.Zero);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        var left = active;
        while (left > active - 2 * orders && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            left = await management.GetTotalActivationCount();
        }

        Assert.True(left <= active - 2 * orders, $"{left} activations left of {active} after collecting the idle ones");
    }
}
