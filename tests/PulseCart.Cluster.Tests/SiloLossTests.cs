using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;
using PulseCart.Abstractions.Orders;
using Xunit.Abstractions;

namespace PulseCart.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class SiloLossTests(ClusterFixture fixture, ITestOutputHelper output)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LosingTheSiloThatHostsTheCartsMidStreamLosesAndRepeatsNothing(bool kill)
    {
        await using var cluster = await RedisBackedCluster.StartAsync(fixture.Redis.ConnectionString);
        var shoppers = Shopper.Many(30);
        var routes = cluster.Routes();

        // Before the loss: every cart abandoned and acknowledged, the carts spread over the silos.
        var before = new Publisher(routes, TimeSpan.Zero);
        await Task.WhenAll(shoppers.Select((shopper, i) => before.DeliverAsync(shopper.Abandoned, i)));
        Assert.Equal(shoppers.Count, cluster.Tasks.Count);

        var hostOfCart = new Dictionary<string, SiloAddress>();
        foreach (var shopper in shoppers)
        {
            hostOfCart[shopper.CartId] = (await cluster.HostOfAsync(cluster.Cluster.Client.GetGrain<ICartGrain>(shopper.CartId)))!;
        }

        var victimAddress = hostOfCart.Values.GroupBy(host => host).OrderByDescending(group => group.Count()).First().Key;
        var victim = cluster.Cluster.Silos.Single(silo => silo.SiloAddress.Equals(victimAddress));
        var moved = shoppers.Where(shopper => hostOfCart[shopper.CartId].Equals(victimAddress)).ToList();
        Assert.NotEmpty(moved);

        // Mid-stream: purchases, and redeliveries of the abandonments, keep arriving through the surviving silos and
        // the client while the victim goes; deliveries that fail are redelivered until acknowledged.
        var survivors = routes.Where(route => route.Name != victim.Name).ToList();
        var during = new Publisher(survivors, TimeSpan.FromSeconds(45));
        var lossDue = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = Parallel.ForEachAsync(
            shoppers.Select((shopper, i) => (shopper, i)),
            new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (item, _) =>
            {
                if (item.i == shoppers.Count / 3)
                {
                    lossDue.TrySetResult();
                }

                await during.DeliverAsync(item.shopper.Placed, item.i);
                await during.DeliverAsync(item.shopper.Abandoned, item.i);
            });
        await lossDue.Task;
        if (kill)
        {
            await cluster.Cluster.KillSiloAsync(victim);
        }
        else
        {
            await cluster.Cluster.StopSiloAsync(victim);
        }

        await stream;
        output.WriteLine(
            $"{moved.Count} of {shoppers.Count} carts on {victim.Name}; {during.Redelivered} of {during.Attempts.Count} deliveries " +
            $"needed a redelivery");

        var repeats = 0;
        foreach (var shopper in shoppers)
        {
            // Acknowledged before the loss, so never scheduled again: the reactivated cart read its state from Redis.
            var task = Assert.Single(cluster.Tasks.ScheduledFor(shopper.CartId));

            // Every acknowledged purchase confirmed; more than once only if its first delivery died with the silo
            // between the send and the state write, and then under the same idempotency key.
            var confirmations = cluster.Messages.WithKey(shopper.ConfirmationKey);
            Assert.NotEmpty(confirmations);
            if (during.Attempts[shopper.Placed.EventId] == 1)
            {
                Assert.Single(confirmations);
            }

            repeats += confirmations.Count - 1;

            var view = await survivors[0].Grains.GetGrain<ICartGrain>(shopper.CartId).GetAsync();
            Assert.Equal(CartStatus.Purchased, view!.Status);
            Assert.Equal(Shopper.T0, view.AbandonedAt);
            Assert.NotNull(view.Reminder);
            Assert.Equal(ReminderStatus.Skipped, view.Reminder.Status);
            Assert.Equal(task.ReminderId, view.Reminder.ReminderId);
            Assert.True(cluster.Tasks.WasDeleted(view.Reminder.TaskName));
            var order = await survivors[0].Grains.GetGrain<IOrderGrain>(shopper.OrderId).GetAsync();
            Assert.Contains(order!.Messages, message => message.IdempotencyKey == shopper.ConfirmationKey);
        }

        foreach (var shopper in moved)
        {
            var host = await cluster.HostOfAsync(cluster.Cluster.Client.GetGrain<ICartGrain>(shopper.CartId));
            Assert.NotNull(host);
            Assert.NotEqual(victimAddress, host);
        }

        // Everything is acknowledged now: a redelivery of any of it, through any silo, changes and sends nothing.
        var sentBefore = cluster.Messages.Count;
        var again = new Publisher(survivors, TimeSpan.Zero);
        var outcomes = await Task.WhenAll(shoppers.SelectMany((shopper, i) => new[]
        {
            again.DeliverAsync(shopper.Abandoned, i),
            again.DeliverAsync(shopper.Placed, i + 1),
        }));
        Assert.All(outcomes, outcome => Assert.Equal(EventOutcome.Duplicate, outcome));
        Assert.Equal(sentBefore, cluster.Messages.Count);
        Assert.Equal(shoppers.Count, cluster.Tasks.Count);

        output.WriteLine($"{repeats} confirmations repeated under their idempotency key");

        // A graceful stop hands its grains over with nothing in flight lost, so nothing at all may repeat.
        if (!kill)
        {
            Assert.Equal(0, repeats);
        }
    }
}
