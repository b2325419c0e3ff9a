using PulseCart.Abstractions.Events;
using PulseCart.Abstractions.Orders;
using PulseCart.Grains.Messaging;

namespace PulseCart.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class OrderGrainTests(ClusterFixture fixture)
{
    private static readonly DateTimeOffset PlacedAt = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RedeliveredOrderPlacedSendsOneConfirmation()
    {
        var (order, user) = NewOrder();
        var placed = new OrderPlaced("evt-" + order, PlacedAt, order, null, user, 59.97m, "EUR");
        var grain = fixture.Grains.GetGrain<IOrderGrain>(order);

        Assert.Equal(EventOutcome.Processed, await grain.OrderPlacedAsync(placed));
        Assert.Equal(EventOutcome.Duplicate, await grain.OrderPlacedAsync(placed));
        Assert.Equal(EventOutcome.Duplicate, await grain.OrderPlacedAsync(placed));

        var sent = Assert.Single(fixture.Messages.SentTo(user));
        Assert.Equal(MessageTemplates.OrderConfirmation, sent.Template);
        Assert.Equal($"order_confirmation:{order}", sent.IdempotencyKey);
        Assert.Equal(59.97m, sent.Total);
    }

    [Fact]
    public async Task FiftyConcurrentDeliveriesSendOneConfirmation()
    {
        var (order, user) = NewOrder();
        var placed = new OrderPlaced("evt-" + order, PlacedAt, order, null, user, null, null);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50)
            .Select(_ => fixture.Grains.GetGrain<IOrderGrain>(order).OrderPlacedAsync(placed)));

        Assert.Single(fixture.Messages.SentTo(user));
        Assert.Equal(1, outcomes.Count(outcome => outcome == EventOutcome.Processed));
        Assert.Equal(49, outcomes.Count(outcome => outcome == EventOutcome.Duplicate));
    }

    [Fact]
    public async Task SecondDistinctOrderPlacedForSameOrderConfirmsNothingNew()
    {
        var (order, user) = NewOrder();
        var grain = fixture.Grains.GetGrain<IOrderGrain>(order);

        await grain.OrderPlacedAsync(new OrderPlaced("a-" + order, PlacedAt, order, null, user, null, null));
        var second = await grain.OrderPlacedAsync(new OrderPlaced("b-" + order, PlacedAt.AddSeconds(1), order, null, user, null, null));

        Assert.Equal(EventOutcome.Stale, second);
        Assert.Single(fixture.Messages.SentTo(user));
    }

    [Fact]
    public async Task EachDistinctPaymentFailureSendsOneRetryMessage()
    {
        var (order, user) = NewOrder();
        var grain = fixture.Grains.GetGrain<IOrderGrain>(order);
        var first = new PaymentFailed("pf1-" + order, PlacedAt, order, user, "card_declined");
        var second = new PaymentFailed("pf2-" + order, PlacedAt.AddMinutes(5), order, user, "card_declined");

        await grain.PaymentFailedAsync(first);
        await grain.PaymentFailedAsync(second);
        Assert.Equal(EventOutcome.Duplicate, await grain.PaymentFailedAsync(first));

        var sent = fixture.Messages.SentTo(user);
        Assert.Equal([$"payment_retry:{first.EventId}", $"payment_retry:{second.EventId}"], sent.Select(m => m.IdempotencyKey).Order());
        var view = await grain.GetAsync();
        Assert.Equal(2, view!.PaymentFailures);
    }

    [Fact]
    public async Task FailedSendRecordsNothingAndTheRetrySendsOnce()
    {
        var (order, user) = NewOrder();
        var grain = fixture.Grains.GetGrain<IOrderGrain>(order);
        var placed = new OrderPlaced("evt-" + order, PlacedAt, order, null, user, null, null);

        fixture.Messages.FailingUsers[user] = true;
        await Assert.ThrowsAsync<MessageSendException>(() => grain.OrderPlacedAsync(placed));
        Assert.Null(await grain.GetAsync());

        fixture.Messages.FailingUsers.TryRemove(user, out _);
        Assert.Equal(EventOutcome.Processed, await grain.OrderPlacedAsync(placed));
        Assert.Equal(EventOutcome.Duplicate, await grain.OrderPlacedAsync(placed));

        Assert.Single(fixture.Messages.SentTo(user));
        var view = await grain.GetAsync();
        Assert.Equal($"order_confirmation:{order}", Assert.Single(view!.Messages).IdempotencyKey);
    }

    [Fact]
    public async Task UnknownOrderReadsAsNull()
    {
        Assert.Null(await fixture.Grains.GetGrain<IOrderGrain>("never-" + Guid.NewGuid()).GetAsync());
    }

    private static (string Order, string User) NewOrder()
    {
        var id = Guid.NewGuid().ToString("N");
        return ("o-" + id, "u-" + id);
    }
}
