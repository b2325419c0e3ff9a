using Microsoft.Extensions.DependencyInjection;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// Carts and orders leave memory: an order as soon as it is placed, a cart as soon as it is bought if the purchase is
/// the first the service hears of it, idle ones when Orleans' collector retires them (the silo's working set,
/// <c>UnscannedWorkingSet</c>, still hands it every new grain). What they knew stays in storage, so a later event is
/// answered as if they had never left.
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
    public async Task APlacedOrderAndItsNewCartLeaveMemoryAtOnceAndStillKnowWhatHappened()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var management = consumer.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var (eventId, order, cart) = (Push.NewId("e"), Push.NewId("o"), Push.NewId("c"));

        // A buy-now: the purchase is the first the service hears of the cart.
        Assert.Equal("processed", (await client.PushAsync(Push.OrderPlaced(eventId, order, "u-1", cart))).Outcome());
        Assert.Equal((0, 0), await WhenNoneActiveAsync(management));

        // The same event in other bytes gets past the push's own memory of what it routed and reaches the grains again:
        // both, active again, read it back from storage.
        var again = await client.PushAsync(Push.OrderPlaced(eventId, order, "u-1", cart, Push.T0.AddSeconds(1)));
        Assert.Equal("duplicate", again.Outcome());
        Assert.Equal("processed", (await client.PushAsync(Push.PaymentFailed(Push.NewId("e"), order, "u-1"))).Outcome());

        Assert.Single(consumer.SentWithKey($"order_confirmation:{order}"));
        Assert.Equal(1, (await client.GetJsonAsync($"/ops/orders/{order}")).GetProperty("payment_failures").GetInt32());
        var bought = await client.GetJsonAsync($"/ops/carts/{cart}");
        Assert.Equal("purchased", bought.GetProperty("status").GetString());
        Assert.Equal(order, bought.GetProperty("purchase_order_id").GetString());
    }

    [Fact]
    public async Task ACartWithAHistoryStaysInMemoryWhenItIsBought()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var management = consumer.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var (order, cart) = (Push.NewId("o"), Push.NewId("c"));

        Assert.Equal("processed", (await client.PushAsync(Push.CartUpdated(Push.NewId("e"), cart, "u-1", Push.T0))).Outcome());
        Assert.Equal("processed", (await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1", cart, Push.T0.AddSeconds(1)))).Outcome());

        // Events of a cart that had a history may still be on their way: it idles like any cart, only the order leaves.
        Assert.Equal((1, 0), await WhenOrdersGoneAsync(management));
    }

    [Fact]
    public async Task ANewCartBoughtByManyOrdersAtOnceAnswersEveryEvent()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var cart = Push.NewId("c");
        var orders = Enumerable.Range(0, 40).Select(_ => Push.NewId("o")).ToArray();

        // The first purchase deactivates the new cart with the others queued behind it; those are forwarded to its next
        // activation, which has a record in storage and stays.
        var answers = await Task.WhenAll(orders.Select((order, i) =>
            client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1", cart, Push.T0.AddSeconds(i)))));

        Assert.All(answers, answer => Assert.True(answer.IsSuccessStatusCode, $"answered {(int)answer.StatusCode}"));
        Assert.All(orders, order => Assert.Single(consumer.SentWithKey($"order_confirmation:{order}")));
        Assert.Equal(orders[^1], (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("purchase_order_id").GetString());
    }

    [Fact]
    public async Task AnOrderPlacedAgainAndAgainWhileItLeavesMemoryAnswersEveryEvent()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var order = Push.NewId("o");

        // Distinct order.placed events for one order at once: the first deactivates the order with the others queued
        // behind it, and those are forwarded to its next activation, which stays.
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1", Push.NewId("c"), Push.T0.AddSeconds(i)))));

        Assert.All(answers, answer => Assert.True(answer.IsSuccessStatusCode, $"answered {(int)answer.StatusCode}"));
        Assert.Single(consumer.SentWithKey($"order_confirmation:{order}"));
    }

    private static async Task<(int Carts, int Orders)> CartsAndOrdersActiveAsync(IManagementGrain management)
    {
        var statistics = await management.GetSimpleGrainStatistics();
        int Active(string type) => statistics.Where(s => s.GrainType.Contains(type, StringComparison.Ordinal)).Sum(s => s.ActivationCount);
        return (Active("CartGrain"), Active("OrderGrain"));
    }

    private static Task<(int Carts, int Orders)> WhenNoneActiveAsync(IManagementGrain management) =>
        WhenAsync(management, active => active == (0, 0));

    private static Task<(int Carts, int Orders)> WhenOrdersGoneAsync(IManagementGrain management) =>
        WhenAsync(management, active => active.Orders == 0);

    private static async Task<(int Carts, int Orders)> WhenAsync(IManagementGrain management, Func<(int Carts, int Orders), bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var active = await CartsAndOrdersActiveAsync(management);
        while (!done(active) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            active = await CartsAndOrdersActiveAsync(management);
        }

        return active;
    }
}
