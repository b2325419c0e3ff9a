using System.Net;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Consumer.Routing;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// A grain call that Orleans rejects before any grain ran it (in the service: a call forwarded past Orleans' limit
/// while a placed order leaves memory) is made again by the router instead of costing the push a 503.
/// </summary>
public sealed class RejectedCallTests
{
    [Fact]
    public async Task APushWhoseOrderCallIsRejectedTwiceIsStillProcessedOnce()
    {
        var order = Push.NewId("o");
        var rejecting = new RejectingOrderCalls(order, times: EventRouter.Attempts - 1);
        await using var consumer = new ConsumerFactory(services: services => services.AddSingleton<IIncomingGrainCallFilter>(rejecting));
        var client = consumer.CreateClient();

        var answer = await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1", Push.NewId("c")));

        Assert.Equal("processed", answer.Outcome());
        Assert.Equal(EventRouter.Attempts - 1, rejecting.Rejected);
        Assert.Single(consumer.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task APushRejectedOnEveryAttemptIsAnswered503AndItsRedeliveryIsProcessed()
    {
        var order = Push.NewId("o");
        var rejecting = new RejectingOrderCalls(order, times: EventRouter.Attempts);
        await using var consumer = new ConsumerFactory(services: services => services.AddSingleton<IIncomingGrainCallFilter>(rejecting));
        var client = consumer.CreateClient();
        var placed = Push.OrderPlaced(Push.NewId("e"), order, "u-1", Push.NewId("c"));

        var first = await client.PushAsync(placed);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Empty(consumer.SentWithKey($"order_confirmation:{order}"));

        var redelivered = await client.PushAsync(placed);
        Assert.Equal("processed", redelivered.Outcome());
        Assert.Single(consumer.SentWithKey($"order_confirmation:{order}"));
    }

    /// <summary>Rejects the first <c>times</c> calls to one order's grain before the grain sees them, as Orleans does.</summary>
    private sealed class RejectingOrderCalls(string orderId, int times) : IIncomingGrainCallFilter
    {
        private readonly int _times = times;
        private int _left = times;

        public int Rejected => _times - Math.Max(0, Volatile.Read(ref _left));

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.TargetId.Key.ToString() == orderId && Interlocked.Decrement(ref _left) >= 0)
            {
                throw Rejection();
            }

            return context.Invoke();
        }

        // Orleans makes these itself; its constructor is internal.
        private static OrleansMessageRejectionException Rejection() =>
            (OrleansMessageRejectionException)Activator.CreateInstance(
                typeof(OrleansMessageRejectionException), BindingFlags.NonPublic | BindingFlags.Instance, binder: null,
                ["Forwarding failed: tried to forward message for 2 times. Rejecting now."], culture: null)!;
    }
}
