using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;
using PulseCart.Grains.Messaging;

namespace PulseCart.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class CartReminderTests(ClusterFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task StillAbandonedCartGetsOneReminderHoweverOftenTheTaskCallsBack()
    {
        var (cart, user, grain) = NewCart();
        var reminderId = await AbandonAsync(grain, cart, user, T0);

        var first = await grain.RemindAsync(new ReminderDue(reminderId, IsLastAttempt: false));
        var second = await grain.RemindAsync(new ReminderDue(reminderId, IsLastAttempt: false));

        Assert.Equal(ReminderOutcome.Sent, first.Outcome);
        Assert.Equal(ReminderOutcome.AlreadySent, second.Outcome);
        var sent = Assert.Single(fixture.Messages.SentTo(user));
        Assert.Equal(MessageTemplates.CartAbandonmentReminder, sent.Template);
        Assert.Equal($"cart_abandonment_reminder:{reminderId}", sent.IdempotencyKey);
        Assert.Equal(cart, sent.CartId);
        Assert.Equal(ReminderStatus.Sent, (await grain.GetAsync())!.Reminder!.Status);
    }

    [Fact]
    public async Task PurchasedCartIsNotReminded()
    {
        var (cart, user, grain) = NewCart();
        var reminderId = await AbandonAsync(grain, cart, user, T0);
        await grain.OrderPlacedAsync(new OrderPlaced("op-" + cart, T0.AddMinutes(30), "o-" + cart, cart, user, null, null));

        var result = await grain.RemindAsync(new ReminderDue(reminderId, IsLastAttempt: false));

        Assert.Equal(ReminderOutcome.Skipped, result.Outcome);
        Assert.Equal("cart purchased", result.Reason);
        Assert.Empty(fixture.Messages.SentTo(user));
    }

    [Fact]
    public async Task CartActiveAgainIsNotReminded()
    {
        var (cart, user, grain) = NewCart();
        var reminderId = await AbandonAsync(grain, cart, user, T0);
        await grain.CartUpdatedAsync(new CartUpdated("up-" + cart, T0.AddMinutes(1), cart, user));

        var result = await grain.RemindAsync(new ReminderDue(reminderId, IsLastAttempt: false));

        Assert.Equal(ReminderOutcome.Skipped, result.Outcome);
        Assert.Empty(fixture.Messages.SentTo(user));
    }

    [Fact]
    public async Task ReplacedReminderIsSkippedAndTheNewerOneSent()
    {
        var (cart, user, grain) = NewCart();
        var older = await AbandonAsync(grain, cart, user, T0);
        var newer = await AbandonAsync(grain, cart, user, T0.AddMinutes(1));

        Assert.Equal(ReminderOutcome.Skipped, (await grain.RemindAsync(new ReminderDue(older, false))).Outcome);
        Assert.Equal(ReminderOutcome.Sent, (await grain.RemindAsync(new ReminderDue(newer, false))).Outcome);
        Assert.Equal([$"cart_abandonment_reminder:{newer}"], fixture.Messages.SentTo(user).Select(m => m.IdempotencyKey));
        Assert.True(fixture.Tasks.WasDeleted($"queues/test/tasks/{older}"));
    }

    [Fact]
    public async Task FailedSendIsRetriedUntilTheLastAttemptThenDeadLettered()
    {
        var (cart, user, grain) = NewCart();
        var reminderId = await AbandonAsync(grain, cart, user, T0);
        fixture.Messages.FailingUsers[user] = true;

        await Assert.ThrowsAsync<MessageSendException>(() => grain.RemindAsync(new ReminderDue(reminderId, IsLastAttempt: false)));
        Assert.Equal(ReminderStatus.Scheduled, (await grain.GetAsync())!.Reminder!.Status);

        var last = await grain.RemindAsync(new ReminderDue(reminderId, IsLastAttempt: true));

        Assert.Equal(ReminderOutcome.DeadLettered, last.Outcome);
        Assert.Contains("sink is down", last.Reason);
        Assert.Equal(ReminderStatus.DeadLettered, (await grain.GetAsync())!.Reminder!.Status);
        Assert.Empty(fixture.Messages.SentTo(user));
    }

    [Fact]
    public async Task ACallbackBeforeTheDueTimeSendsNothingAndSaysWhenItIsDue()
    {
        var (cart, user, grain) = NewCart();
        var abandonedAt = fixture.Time.GetUtcNow();
        var reminderId = await AbandonAsync(grain, cart, user, abandonedAt);

        var early = await grain.RemindAsync(new ReminderDue(reminderId, IsLastAttempt: false));

        Assert.Equal(ReminderOutcome.NotYetDue, early.Outcome);
        Assert.Equal(abandonedAt + TimeSpan.FromHours(2), early.DueAt);
        Assert.Empty(fixture.Messages.SentTo(user));
        Assert.Equal(ReminderStatus.Scheduled, (await grain.GetAsync())!.Reminder!.Status);
    }

    [Fact]
    public async Task ACallbackThatOvertakesItsAbandonmentIsAskedAgainAndThenSent()
    {
        // The task is created before the abandonment is recorded. When that write fails, the push is retried, and the
        // task (due at once for a late event) can call back first; the retry's create meets the same task name.
        var (cart, user, grain) = NewCart();
        var abandoned = new CartAbandoned($"ab-{cart}", T0, cart, user, 25m, "EUR");
        fixture.States.FailingGrains[cart] = true;
        await Assert.ThrowsAnyAsync<Exception>(() => grain.CartAbandonedAsync(abandoned));
        fixture.States.FailingGrains.TryRemove(cart, out _);
        var task = Assert.Single(fixture.Tasks.ScheduledFor(cart));
        var due = new ReminderDue(task.ReminderId, IsLastAttempt: false, AbandonEventId: abandoned.EventId, DueAt: task.DueAt);

        Assert.Equal(ReminderOutcome.NotRecordedYet, (await grain.RemindAsync(due)).Outcome);
        Assert.Empty(fixture.Messages.SentTo(user));

        Assert.Equal(EventOutcome.Processed, await grain.CartAbandonedAsync(abandoned));
        Assert.Equal(ReminderOutcome.Sent, (await grain.RemindAsync(due)).Outcome);
        Assert.Single(fixture.Messages.SentTo(user));
    }

    [Fact]
    public async Task AReplacedReminderNamingItsAbandonmentIsStillSkipped()
    {
        var (cart, user, grain) = NewCart();
        await AbandonAsync(grain, cart, user, T0);
        await AbandonAsync(grain, cart, user, T0.AddMinutes(1));
        var (older, newer) = (fixture.Tasks.ScheduledFor(cart)[0], fixture.Tasks.ScheduledFor(cart)[1]);

        var result = await grain.RemindAsync(new ReminderDue(older.ReminderId, false, AbandonEventId: older.EventId, DueAt: older.DueAt));

        Assert.Equal(ReminderOutcome.Skipped, result.Outcome);
        Assert.Equal(ReminderOutcome.Sent, (await grain.RemindAsync(new ReminderDue(newer.ReminderId, false, AbandonEventId: newer.EventId, DueAt: newer.DueAt))).Outcome);
    }

    private (string Cart, string User, ICartGrain Grain) NewCart()
    {
        var id = Guid.NewGuid().ToString("N");
        return ("c-" + id, "u-" + id, fixture.Grains.GetGrain<ICartGrain>("c-" + id));
    }

    private static async Task<string> AbandonAsync(ICartGrain grain, string cart, string user, DateTimeOffset at)
    {
        await grain.CartAbandonedAsync(new CartAbandoned($"ab-{cart}-{at:HHmm}", at, cart, user, 25m, "EUR"));
        return (await grain.GetAsync())!.Reminder!.ReminderId;
    }
}
