using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// <c>PulseCart:Push:RequestTimeout</c>: a delivery still being handled then is answered 504, so Pub/Sub delivers it
/// again; the handling goes on, and its effect happens once.
/// </summary>
public sealed class DeliveryDeadlineTests
{
    [Fact]
    public async Task APushStillHandledAtTheDeadlineGets504AndItsConfirmationIsSentOnce()
    {
        var sender = new HeldSender();
        await using var consumer = new ConsumerFactory(
            new Dictionary<string, string?> { ["PulseCart:Push:RequestTimeout"] = "00:00:01" },
            services: services => services.AddSingleton<IMessageSender>(sender));
        var client = consumer.CreateClient();
        var @event = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1");

        var clock = Stopwatch.StartNew();
        var first = await client.PushAsync(@event);

        Assert.Equal(HttpStatusCode.GatewayTimeout, first.StatusCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.Equal(0, sender.Sent);

        sender.Release();
        var again = await client.PushAsync(@event);

        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        Assert.Equal("duplicate", again.Outcome());
        Assert.Equal(1, sender.Sent);
    }

    [Fact]
    public async Task BeyondMaxInFlightAPushIsAnswered429UntilAHandlingEndsEvenOneAnswered504()
    {
        var sender = new HeldSender();
        await using var consumer = new ConsumerFactory(
            new Dictionary<string, string?>
            {
                ["PulseCart:Push:RequestTimeout"] = "00:00:01",
                ["PulseCart:Push:MaxInFlight"] = "2",
            },
            services: services => services.AddSingleton<IMessageSender>(sender));
        var client = consumer.CreateClient();

        // Two held orders: answered 504 at the deadline, and still being handled.
        var held = await Task.WhenAll(
            client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1")),
            client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1")));
        Assert.All(held, response => Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode));

        var third = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1");
        var refused = await client.PushAsync(third);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());

        // Once the held ones finish, the redelivery goes through.
        sender.Release();
        var clock = Stopwatch.StartNew();
        HttpResponseMessage redelivered;
        while ((redelivered = await client.PushAsync(third)).StatusCode == HttpStatusCode.TooManyRequests && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.Equal("processed", redelivered.Outcome());
        Assert.Equal(3, sender.Sent);
    }

    /// <summary>A sink that accepts nothing until released, then everything.</summary>
    private sealed class HeldSender : IMessageSender
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _sent;

        public string Sink => "held";

        public int Sent => Volatile.Read(ref _sent);

        public void Release() => _released.TrySetResult();

        public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
        {
            await _released.Task;
            Interlocked.Increment(ref _sent);
        }
    }
}
