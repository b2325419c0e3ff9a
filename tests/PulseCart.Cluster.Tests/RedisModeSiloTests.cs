using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace PulseCart.Cluster.Tests;

/// <summary>The consumer's own <c>redis</c> cluster mode, three silos in one process talking TCP on loopback.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RedisModeSiloTests(ClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task RedisModeSilosFormOneClusterAndHandOverACrashedSilosCarts()
    {
        await using var silos = await ConsumerSilos.StartAsync(fixture.Redis.ConnectionString, 3);

        // They found each other through the membership table in Redis, each advertising loopback.
        Assert.Equal(3, (await silos.Management.GetHosts(onlyActive: true)).Count);
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString))
        {
            var rows = (await redis.GetDatabase().HashKeysAsync($"{silos.ServiceId}/members/{silos.ClusterId}")).Select(key => key.ToString()).ToList();
            Assert.All(silos.Names, name => Assert.Contains(silos.AddressOf(name).ToString(), rows));
            Assert.All(silos.Names, name => Assert.StartsWith("S127.0.0.1:", silos.AddressOf(name).ToString()));
        }

        // Identical deliveries through every silo at once meet in one activation per cart.
        var shoppers = Shopper.Many(12);
        var routes = silos.Routes;
        var outcomes = await Task.WhenAll(shoppers.Select(shopper =>
            Task.WhenAll(routes.Select(route => route.Router.RouteAsync(shopper.Abandoned)))));
        Assert.All(outcomes, perShopper => Assert.Single(perShopper, outcome => outcome == EventOutcome.Processed));
        Assert.All(shoppers, shopper => Assert.Single(silos.Tasks.ScheduledFor(shopper.CartId)));

        var hostOf = new Dictionary<string, string>();
        foreach (var shopper in shoppers)
        {
            var host = await silos.Management.GetActivationAddress(routes[0].Grains.GetGrain<ICartGrain>(shopper.CartId));
            hostOf[shopper.CartId] = silos.NameOf(host!);
        }

        // The silo holding the most carts crashes; pushes keep arriving at the others and are redelivered until
        // acknowledged, as Pub/Sub would.
        var victim = hostOf.Values.GroupBy(name => name).OrderByDescending(group => group.Count()).First().Key;
        var moved = shoppers.Where(shopper => hostOf[shopper.CartId] == victim).ToList();
        output.WriteLine($"{moved.Count} of {shoppers.Count} carts on {victim}");
        await silos.KillAsync(victim);

        var publisher = new Publisher(silos.Routes, TimeSpan.FromSeconds(45));
        var started = DateTime.UtcNow;
        await Task.WhenAll(shoppers.Select((shopper, i) => publisher.DeliverAsync(shopper.Placed, i)));
        output.WriteLine($"purchases acknowledged {DateTime.UtcNow - started} after the crash; {publisher.Redelivered} needed a redelivery");

        foreach (var shopper in shoppers)
        {
            Assert.Single(silos.Tasks.ScheduledFor(shopper.CartId));
            var confirmations = silos.Messages.WithKey(shopper.ConfirmationKey);
            Assert.Single(confirmations);
            var view = await silos.Routes[0].Grains.GetGrain<ICartGrain>(shopper.CartId).GetAsync();
            Assert.Equal(CartStatus.Purchased, view!.Status);
            Assert.Equal(Shopper.T0, view.AbandonedAt);
            Assert.Equal(ReminderStatus.Skipped, view.Reminder!.Status);
        }

        foreach (var shopper in moved)
        {
            var host = await silos.Management.GetActivationAddress(silos.Routes[0].Grains.GetGrain<ICartGrain>(shopper.CartId));
            Assert.NotEqual(victim, silos.NameOf(host!));
        }
    }
}
