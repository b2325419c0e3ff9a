using System.Net;
using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Orders;
using PulseCart.Consumer.Delivery;
using PulseCart.Google.CloudTasks;
using PulseCart.Grains.Messaging;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace PulseCart.Cluster.Tests;

/// <summary>
/// A push may arrive at one silo while its cart or order lives on another; the grain's failure then comes back over
/// the silos' TCP link. The answer to Pub/Sub must be the same as on one silo: a dependency that was down is retried
/// (503), a refusal is quarantined (204).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FailureVerdictsAcrossSilosTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly (string Name, Func<Exception> Failure, bool Retried)[] QueueFailures =
    [
        ("Cloud Tasks unavailable", () => new CloudTasksException("Cloud Tasks answered 503", HttpStatusCode.ServiceUnavailable, "UNAVAILABLE"), true),
        ("Cloud Tasks refused", () => new CloudTasksRejectedException("scheduleTime is more than 30 days ahead", HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), false),
        ("Redis unreachable", () => new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No connection is active"), true),
    ];

    private static readonly (string Name, Func<Exception> Failure, bool Retried)[] SinkFailures =
    [
        ("webhook unavailable", () => new MessageSendException("webhook answered 503"), true),
        ("webhook refused", () => new MessageSendException("webhook answered 422", refused: true), false),
    ];

    [Fact]
    public async Task AGrainsFailureOnAnotherSiloGetsTheAnswerItWouldGetOnOne()
    {
        await using var silos = await ConsumerSilos.StartAsync(fixture.Redis.ConnectionString, 2);
        var shoppers = Shopper.Many(QueueFailures.Length + SinkFailures.Length);

        foreach (var ((name, failure, retried), shopper) in QueueFailures.Zip(shoppers))
        {
            var cart = silos.Routes[0].Grains.GetGrain<ICartGrain>(shopper.CartId);
            await cart.GetAsync();
            var (caller, host) = await CallerAwayFrom(silos, cart);
            silos.Tasks.Failure = failure;
            var arrived = await Assert.ThrowsAnyAsync<Exception>(() => caller.Router.RouteAsync(shopper.Abandoned));
            silos.Tasks.Failure = null;

            Assert.Equal(host, silos.Tasks.FailedOn.Last());
            AssertSameVerdict(name, failure(), arrived, retried);
        }

        foreach (var ((name, failure, retried), shopper) in SinkFailures.Zip(shoppers.Skip(QueueFailures.Length)))
        {
            var order = silos.Routes[0].Grains.GetGrain<IOrderGrain>(shopper.OrderId);
            await order.GetAsync();
            var (caller, host) = await CallerAwayFrom(silos, order);
            silos.Messages.Failure = failure;
            var arrived = await Assert.ThrowsAnyAsync<Exception>(() => caller.Router.RouteAsync(shopper.Placed));
            silos.Messages.Failure = null;

            Assert.Equal(host, silos.Messages.FailedOn.Last());
            AssertSameVerdict(name, failure(), arrived, retried);
        }
    }

    private void AssertSameVerdict(string name, Exception thrown, Exception arrived, bool retried)
    {
        output.WriteLine($"{name}: {arrived.GetType().Name}: {arrived.Message}");
        Assert.True(thrown.GetType() == arrived.GetType(), $"{name}: thrown {thrown.GetType().Name}, arrived as {arrived.GetType()}: {arrived.Message}");
        Assert.True(retried == TransientFailures.IsTransient(thrown), $"{name}: the single-silo verdict is not what the test expects");
        Assert.True(retried == TransientFailures.IsTransient(arrived), $"{name}: {(retried ? "retried" : "quarantined")} on one silo, not across two");
    }

    /// <summary>The route of the silo the (active) grain does not live on, as the one a push arrives at, and the grain's silo.</summary>
    private static async Task<(Route Caller, string Host)> CallerAwayFrom(ConsumerSilos silos, IAddressable grain)
    {
        var address = await silos.Management.GetActivationAddress(grain);
        Assert.NotNull(address);
        var host = silos.NameOf(address);
        return (silos.Routes.Single(route => route.Name != host), host);
    }
}
