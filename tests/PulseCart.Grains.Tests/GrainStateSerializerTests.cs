using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using PulseCart.Abstractions.Carts;
using PulseCart.Grains.Carts;
using PulseCart.Grains.Orders;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class GrainStateSerializerTests(ClusterFixture fixture)
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void CartsAndOrdersRoundTripInTheBinaryFormatWhichIsNeverMistakenForJson()
    {
        var (serializer, _) = Serializers();

        foreach (var cart in new[] { new CartState(), FullCart() })
        {
            var stored = serializer.Serialize(cart);
            Assert.False(GrainStateSerializer.IsJson(stored));
            AssertSameCart(cart, serializer.Deserialize<CartState>(stored)!);
        }

        foreach (var order in new[] { new OrderState(), FullOrder() })
        {
            var stored = serializer.Serialize(order);
            Assert.False(GrainStateSerializer.IsJson(stored));
            AssertSameOrder(order, serializer.Deserialize<OrderState>(stored)!);
        }
    }

    [Fact]
    public void StateEarlierVersionsStoredAsJsonStillReads()
    {
        var (serializer, legacyJson) = Serializers();
        var cart = FullCart();
        var order = FullOrder();

        var storedCart = legacyJson.Serialize(cart);
        Assert.True(GrainStateSerializer.IsJson(storedCart));
        AssertSameCart(cart, serializer.Deserialize<CartState>(storedCart)!);
        AssertSameOrder(order, serializer.Deserialize<OrderState>(legacyJson.Serialize(order))!);
    }

    // The silo's own serializers, as the Redis storage provider gets them.
    private (GrainStateSerializer Serializer, IGrainStorageSerializer LegacyJson) Serializers()
    {
        var services = fixture.Cluster.GetActiveSilos().First().ServiceProvider;
        var legacyJson = services.GetRequiredService<IGrainStorageSerializer>();
        return (new GrainStateSerializer(services.GetRequiredService<Serializer>(), legacyJson), legacyJson);
    }

    private static CartState FullCart()
    {
        var cart = new CartState
        {
            UserId = "u-1",
            LastActivityAt = At,
            AbandonedAt = At.AddMinutes(5),
            Reminder = new CartReminder
            {
                ReminderId = "r-1",
                TaskName = "queues/q/tasks/t-1",
                AbandonEventId = "e-2",
                AbandonedAt = At.AddMinutes(5),
                DueAt = At.AddHours(2),
                Status = ReminderStatus.Scheduled,
                Total = 59.97m,
                Currency = "EUR",
            },
        };
        cart.Events.Remember("e-1", At, new DedupOptions());
        cart.Events.Remember("e-2", At.AddMinutes(5), new DedupOptions());
        return cart;
    }

    private static OrderState FullOrder()
    {
        var order = new OrderState { UserId = "u-1", CartId = "c-1", PlacedAt = At, Total = 59.97m, Currency = "EUR", PaymentFailures = 1 };
        order.Events.Remember("e-3", At, new DedupOptions());
        order.Messages.Record("order_confirmation:o-1", At);
        return order;
    }

    private static void AssertSameCart(CartState expected, CartState actual)
    {
        Assert.Equal(expected.UserId, actual.UserId);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.AbandonedAt, actual.AbandonedAt);
        Assert.Equal(expected.Reminder?.ToView(), actual.Reminder?.ToView());
        Assert.Equal(expected.Reminder?.Total, actual.Reminder?.Total);
        Assert.Equal(expected.Events.Seen, actual.Events.Seen);
        Assert.Equal(expected.Messages.Sent, actual.Messages.Sent);
    }

    private static void AssertSameOrder(OrderState expected, OrderState actual)
    {
        Assert.Equal(
            (expected.UserId, expected.CartId, expected.PlacedAt, expected.Total, expected.Currency, expected.PaymentFailures),
            (actual.UserId, actual.CartId, actual.PlacedAt, actual.Total, actual.Currency, actual.PaymentFailures));
        Assert.Equal(expected.Events.Seen, actual.Events.Seen);
        Assert.Equal(expected.Messages.Sent, actual.Messages.Sent);
    }
}
