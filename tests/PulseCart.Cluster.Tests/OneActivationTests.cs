using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;
using PulseCart.Abstractions.Orders;

namespace PulseCart.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class OneActivationTests(ClusterFixture fixture)
{
    private RedisBackedCluster Cluster => fixture.Shared;

    [Fact]
    public async Task IdenticalDeliveriesThroughEverySiloMeetInOneActivation()
    {
        var shoppers = Shopper.Many(300);
        var routes = Cluster.Routes();
        Assert.Equal(4, routes.Count);

        // Every route delivers the same event at the same moment, as concurrent Pub/Sub redeliveries landing on
        // different pods would. A copy that fails (in a burst this size on a busy CI machine, a state read can time out)
        // is delivered again, as Pub/Sub does after a 5xx.
        var publisher = new Publisher(routes, TimeSpan.FromSeconds(30));
        var abandonments = await Task.WhenAll(shoppers.Select(shopper =>
            Task.WhenAll(routes.Select((_, first) => publisher.DeliverAsync(shopper.Abandoned, first)))));
        await Task.WhenAll(shoppers.Select(shopper =>
            Task.WhenAll(routes.Select((_, first) => publisher.DeliverAsync(shopper.Placed, first)))));

        // A copy that meets a placed order leaving memory is forwarded, and Orleans rejects one forwarded twice; the
        // router calls again instead of answering 503.
        Assert.DoesNotContain(publisher.Failures, failure => failure is OrleansMessageRejectionException);

        var hosts = new HashSet<SiloAddress>();
        foreach (var (shopper, outcomes) in shoppers.Zip(abandonments))
        {
            // One copy is processed, the others are duplicates; a copy processed whose answer was lost is redelivered
            // and answered duplicate too, so "at most one".
            Assert.All(outcomes, outcome => Assert.True(outcome is EventOutcome.Processed or EventOutcome.Duplicate, $"{outcome}"));
            Assert.True(outcomes.Count(outcome => outcome == EventOutcome.Processed) <= 1, string.Join(", ", outcomes));
            var task = Assert.Single(Cluster.Tasks.ScheduledFor(shopper.CartId));
            Assert.Single(Cluster.Messages.WithKey(shopper.ConfirmationKey));

            var cart = Cluster.Cluster.Client.GetGrain<ICartGrain>(shopper.CartId);
            var order = Cluster.Cluster.Client.GetGrain<IOrderGrain>(shopper.OrderId);
            Assert.Equal(1, await Cluster.Management.GetGrainActivationCount((GrainReference)cart));
            Assert.Equal(1, await Cluster.Management.GetGrainActivationCount((GrainReference)order));
            hosts.Add((await Cluster.HostOfAsync(cart))!);
            hosts.Add((await Cluster.HostOfAsync(order))!);

            // Whichever silo is asked, it is the same grain answering.
            foreach (var route in routes)
            {
                var view = await route.Grains.GetGrain<ICartGrain>(shopper.CartId).GetAsync();
                Assert.Equal(CartStatus.Purchased, view!.Status);
                Assert.Equal(ReminderStatus.Skipped, view.Reminder!.Status);
                Assert.Equal(task.ReminderId, view.Reminder.ReminderId);
            }
        }

        // The grains live on more than one silo, so most deliveries above crossed from one silo to another.
        Assert.True(hosts.Count >= 2, $"all grains on {string.Join(", ", hosts)}");
    }

    [Fact]
    public async Task IdenticalDeliveriesOfABuyNowThroughEverySiloConfirmItOnce()
    {
        var shoppers = Shopper.Many(300);
        var routes = Cluster.Routes();

        // The purchase is the first the service hears of each cart, so the cart leaves memory with its order. A copy
        // that meets either on its way out is forwarded, or called again by the router, and never fails for that.
        var publisher = new Publisher(routes, TimeSpan.FromSeconds(30));
        var placements = await Task.WhenAll(shoppers.Select(shopper =>
            Task.WhenAll(routes.Select((_, first) => publisher.DeliverAsync(shopper.Placed, first)))));

        Assert.DoesNotContain(publisher.Failures, failure => failure is OrleansMessageRejectionException);
        foreach (var (shopper, outcomes) in shoppers.Zip(placements))
        {
            // Two copies can each be "processed": one can reach the order first and the other the cart, each grain
            // doing its part once. What matters is that each effect happened once.
            Assert.All(outcomes, outcome => Assert.True(outcome is EventOutcome.Processed or EventOutcome.Duplicate, $"{outcome}"));
            Assert.Single(Cluster.Messages.WithKey(shopper.ConfirmationKey));
            var view = await routes[0].Grains.GetGrain<ICartGrain>(shopper.CartId).GetAsync();
            Assert.Equal(CartStatus.Purchased, view!.Status);
            Assert.Equal(shopper.OrderId, view.PurchaseOrderId);
        }
    }
}
