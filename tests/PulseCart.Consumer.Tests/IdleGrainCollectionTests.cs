using Microsoft.Extensions.DependencyInjection;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// Carts and orders leave memory: a purchase ends a cart's and an order's first chapter at once, and idle ones go when
/// Orleans' collector retires them (the silo's working set, <c>UnscannedWorkingSet</c>, still hands it every new grain).
/// What they knew stays in storage, so a later event is answered as if they had never left.
/// </summary>
public sealed class IdleGrainCollectionTests
{
    [Fact]
    public async Task IdleCartsAndOrdersAreDeactivatedWhenCollected()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var management = consumer.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);

        const int each = 5;
        for (var i = 0; i < each; i++)
        {
            Assert.Equal("processed", (await client.PushAsync(Push.CartUpdated(Push.NewId("e"), Push.NewId("c"), "u-1", Push.T0))).Outcome());
            Assert.Equal("processed", (await client.PushAsync(Push.PaymentFailed(Push.NewId("e"), Push.NewId("o"), "u-1"))).Outcome());
        }

        // Neither event ends a story, so the grains stay until collected.
        Assert.Equal((each, each), await CartsAndOrdersActiveAsync(management));

        await management.ForceActivationCollection(TimeSpan.Zero);

        Assert.Equal((0, 0), await WhenNoneActiveAsync(management));
    }

    [Fact]
    public async Task APurchasedCartAndItsOrderLeaveMemoryAtOnceAndStillKnowWhatHappened()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var management = consumer.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var (eventId, order, cart) = (Push.NewId("e"), Push.NewId("o"), Push.NewId("c"));

        Assert.Equal("processed", (await client.PushAsync(Push.OrderPlaced(eventId, order, "u-1", cart))).Outcome());
        Assert.Equal((0, 0), await WhenNoneActiveAsync(management));

        // The same event in other bytes gets past the push's own memory of what it routed and reaches the grains again,
        // which read it back from storage.
        var again = await client.PushAsync(Push.OrderPlaced(eventId, order, "u-1", cart, Push.T0.AddSeconds(1)));
        Assert.Equal("duplicate", again.Outcome());
        Assert.Equal("processed", (await client.PushAsync(Push.PaymentFailed(Push.NewId("e"), order, "u-1"))).Outcome());

        Assert.Single(consumer.SentWithKey($"order_confirmation:{order}"));
        Assert.Equal("purchased", (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("status").GetString());
        Assert.Equal(1, (await client.GetJsonAsync($"/ops/orders/{order}")).GetProperty("payment_failures").GetInt32());
    }

    private static async Task<(int Carts, int Orders)> CartsAndOrdersActiveAsync(IManagementGrain management)
    {
        var statistics = await management.GetSimpleGrainStatistics();
        int Active(string type) => statistics.Where(s => s.GrainType.Contains(type, StringComparison.Ordinal)).Sum(s => s.ActivationCount);
        return (Active("CartGrain"), Active("OrderGrain"));
    }

    private static async Task<(int Carts, int Orders)> WhenNoneActiveAsync(IManagementGrain management)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var active = await CartsAndOrdersActiveAsync(management);
        while (active != (0, 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            active = await CartsAndOrdersActiveAsync(management);
        }

        return active;
    }
}
