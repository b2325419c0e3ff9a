using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;

namespace PulseCart.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class CartGrainTests(ClusterFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task AbandonmentSchedulesOneReminderDueTwoHoursLater()
    {
        var (cart, user) = NewCart();
        var abandoned = new CartAbandoned("ab-" + cart, T0, cart, user, 10m, "EUR");
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);

        Assert.Equal(EventOutcome.Processed, await grain.CartAbandonedAsync(abandoned));
        Assert.Equal(EventOutcome.Duplicate, await grain.CartAbandonedAsync(abandoned));

        var task = Assert.Single(fixture.Tasks.ScheduledFor(cart));
        Assert.Equal(T0.AddHours(2), task.DueAt);
        var view = await grain.GetAsync();
        Assert.Equal(CartStatus.Abandoned, view!.Status);
        Assert.Equal(ReminderStatus.Scheduled, view.Reminder!.Status);
        Assert.Equal(T0.AddHours(2), view.Reminder.DueAt);
        Assert.Equal(task.ReminderId, view.Reminder.ReminderId);
    }

    [Fact]
    public async Task AnEventWhoseStateWriteFailedIsProcessedWhenDeliveredAgain()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);
        var updated = new CartUpdated("up-" + cart, T0, cart, user);

        fixture.States.FailingGrains[cart] = true;
        await Assert.ThrowsAnyAsync<Exception>(() => grain.CartUpdatedAsync(updated));
        fixture.States.FailingGrains.TryRemove(cart, out _);

        // The activation that remembered the event in memory is gone: the redelivery is processed and stored, not taken
        // for a duplicate of a write that never happened.
        Assert.Equal(EventOutcome.Processed, await grain.CartUpdatedAsync(updated));
        Assert.Equal(EventOutcome.Duplicate, await grain.CartUpdatedAsync(updated));
    }

    [Fact]
    public async Task AnUpdateNoNewerThanTheCartsActivityIsAnsweredWithoutStorage()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);
        var newest = new CartUpdated("up-" + cart, T0, cart, user);
        Assert.Equal(EventOutcome.Processed, await grain.CartUpdatedAsync(newest));

        // With storage failing, only an update that moves the cart's activity forward needs it: a redelivery, a
        // simultaneous and an older update change nothing, so they are still answered (and Pub/Sub stops delivering them).
        fixture.States.FailingGrains[cart] = true;
        try
        {
            Assert.Equal(EventOutcome.Duplicate, await grain.CartUpdatedAsync(newest));
            Assert.Equal(EventOutcome.Duplicate, await grain.CartUpdatedAsync(newest with { OccurredAt = T0.AddMinutes(2) }));
            Assert.Equal(EventOutcome.Stale, await grain.CartUpdatedAsync(new CartUpdated("same-" + cart, T0, cart, user)));
            Assert.Equal(EventOutcome.Stale, await grain.CartUpdatedAsync(new CartUpdated("older-" + cart, T0.AddMinutes(-5), cart, user)));
            await Assert.ThrowsAnyAsync<Exception>(() => grain.CartUpdatedAsync(new CartUpdated("newer-" + cart, T0.AddMinutes(1), cart, user)));
        }
        finally
        {
            fixture.States.FailingGrains.TryRemove(cart, out _);
        }

        // The failed write dropped the activation; the next one reads what storage holds, the newest update's id with it.
        var view = await grain.GetAsync();
        Assert.Equal(T0, view!.LastActivityAt);
        Assert.Equal(0, view.RememberedEventIds);
        Assert.Equal(EventOutcome.Duplicate, await grain.CartUpdatedAsync(newest));
    }

    [Fact]
    public async Task AbandonmentOlderThanThePurchaseSchedulesNothing()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);

        await grain.OrderPlacedAsync(new OrderPlaced("op-" + cart, T0, "o-" + cart, cart, user, null, null));
        var late = await grain.CartAbandonedAsync(new CartAbandoned("ab-" + cart, T0.AddMinutes(-30), cart, user, null, null));

        Assert.Equal(EventOutcome.Stale, late);
        Assert.Empty(fixture.Tasks.ScheduledFor(cart));
        var view = await grain.GetAsync();
        Assert.Equal(CartStatus.Purchased, view!.Status);
        Assert.Null(view.Reminder);
    }

    [Fact]
    public async Task AbandonmentOlderThanTheLastActivitySchedulesNothing()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);

        await grain.CartUpdatedAsync(new CartUpdated("up-" + cart, T0, cart, user));
        var late = await grain.CartAbandonedAsync(new CartAbandoned("ab-" + cart, T0.AddMinutes(-1), cart, user, null, null));

        Assert.Equal(EventOutcome.Stale, late);
        Assert.Empty(fixture.Tasks.ScheduledFor(cart));
        Assert.Equal(CartStatus.Active, (await grain.GetAsync())!.Status);
    }

    [Fact]
    public async Task ActivityAfterTheAbandonmentSkipsTheReminderAndDeletesItsTask()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);

        await grain.CartAbandonedAsync(new CartAbandoned("ab-" + cart, T0, cart, user, null, null));
        await grain.CartUpdatedAsync(new CartUpdated("up-" + cart, T0.AddMinutes(10), cart, user));

        var view = await grain.GetAsync();
        Assert.Equal(CartStatus.Active, view!.Status);
        Assert.Equal(ReminderStatus.Skipped, view.Reminder!.Status);
        Assert.Equal("cart active again", view.Reminder.Reason);
        Assert.True(fixture.Tasks.WasDeleted(view.Reminder.TaskName));
    }

    [Fact]
    public async Task PurchaseAfterTheAbandonmentSkipsTheReminderAndDeletesItsTask()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);

        await grain.CartAbandonedAsync(new CartAbandoned("ab-" + cart, T0, cart, user, null, null));
        await grain.OrderPlacedAsync(new OrderPlaced("op-" + cart, T0.AddMinutes(20), "o-" + cart, cart, user, null, null));

        var view = await grain.GetAsync();
        Assert.Equal(CartStatus.Purchased, view!.Status);
        Assert.Equal(ReminderStatus.Skipped, view.Reminder!.Status);
        Assert.Equal("cart purchased", view.Reminder.Reason);
        Assert.True(fixture.Tasks.WasDeleted(view.Reminder.TaskName));
    }

    [Fact]
    public async Task OlderActivityArrivingLateLeavesTheNewerActivityInPlace()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);

        await grain.CartUpdatedAsync(new CartUpdated("new-" + cart, T0, cart, user));
        var late = await grain.CartUpdatedAsync(new CartUpdated("old-" + cart, T0.AddHours(-1), cart, user));

        Assert.Equal(EventOutcome.Stale, late);
        Assert.Equal(T0, (await grain.GetAsync())!.LastActivityAt);
    }

    [Fact]
    public async Task QueueOutageRecordsNoScheduleAndTheRetrySchedulesOnce()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);
        var abandoned = new CartAbandoned("ab-" + cart, T0, cart, user, null, null);

        fixture.Tasks.FailingCarts[cart] = true;
        await Assert.ThrowsAsync<HttpRequestException>(() => grain.CartAbandonedAsync(abandoned));
        Assert.Null(await grain.GetAsync());

        fixture.Tasks.FailingCarts.TryRemove(cart, out _);
        Assert.Equal(EventOutcome.Processed, await grain.CartAbandonedAsync(abandoned));
        Assert.Single(fixture.Tasks.ScheduledFor(cart));
    }

    [Fact]
    public async Task EventIdsOlderThanTheDedupWindowAreForgotten()
    {
        var (cart, user) = NewCart();
        var grain = fixture.Grains.GetGrain<ICartGrain>(cart);

        await grain.CartAbandonedAsync(new CartAbandoned("first-" + cart, T0, cart, user, null, null));
        await grain.CartAbandonedAsync(new CartAbandoned("second-" + cart, T0.AddMinutes(1), cart, user, null, null));
        Assert.Equal(2, (await grain.GetAsync())!.RememberedEventIds);

        // The clock is shared by the collection, so only ever move it forward.
        fixture.Time.Advance(TimeSpan.FromDays(9));
        await grain.CartAbandonedAsync(new CartAbandoned("third-" + cart, T0.AddMinutes(2), cart, user, null, null));

        Assert.Equal(1, (await grain.GetAsync())!.RememberedEventIds);
    }

    private static (string Cart, string User) NewCart()
    {
        var id = Guid.NewGuid().ToString("N");
        return ("c-" + id, "u-" + id);
    }
}
