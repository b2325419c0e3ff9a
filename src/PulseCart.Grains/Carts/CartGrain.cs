using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;
using PulseCart.Grains.Events;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;
using PulseCart.Grains.Reminders;

namespace PulseCart.Grains.Carts;

// Most carts and orders hear a handful of events within minutes; holding them the default 15 minutes costs
// ~3 KiB each under load (1M carts: 3.5 GiB). A later event reactivates from storage.
[CollectionAgeLimit(Minutes = 3)]
public sealed class CartGrain(
    [PersistentState("cart", GrainStorage.Name)] IPersistentState<CartState> state,
    ITaskQueue taskQueue,
    IMessageSender messageSender,
    IOptions<DedupOptions> dedupOptions,
    IOptions<RemindersOptions> remindersOptions,
    IOptions<EventTimeOptions> eventTimeOptions,
    TimeProvider time,
    ILogger<CartGrain> logger) : Grain, ICartGrain
{
    // How long a cart whose reminder waited stays in memory past the wait and past each callback after it: longer than
    // the queue's longest backoff (deploy/ gives it 300 s), so that the next callback finds the activation that waited.
    private static readonly TimeSpan KeptPastOverdueWait = TimeSpan.FromMinutes(6);

    // The reminder that came back overdue, and until when it waits for news. Kept per activation, which stays in memory
    // meanwhile: a callback that meets a new one (after a restart or a move) waits again; the queue's last attempt never waits.
    private (string ReminderId, DateTimeOffset Until)? _overdueWait;

    private CartState Cart => state.State;

    private string CartId => this.GetPrimaryKeyString();

    // The state is read here rather than in Orleans' grain lifecycle, which this grain then never runs (DirectPersistentState).
    public override Task OnActivateAsync(CancellationToken cancellationToken) => state.ReadOnActivationAsync();

    /// <summary>
    /// Activity is deduplicated by the cart's state rather than by event id: all an update does is move the cart's newest
    /// activity forward (and skip a reminder it supersedes), so one no newer than that changes nothing, however often it
    /// comes. It is answered from memory without a write, and no id is kept per update, in memory or in Redis: the
    /// commonest event costs less (README, "Effectively once").
    /// </summary>
    public async Task<EventOutcome> CartUpdatedAsync(CartUpdated cartUpdated)
    {
        // The newest update's id, the ids of the cart's other events and those of updates remembered before this rule.
        if (cartUpdated.EventId == Cart.LastActivityEventId || Cart.Events.Contains(cartUpdated.EventId))
        {
            return EventOutcome.Duplicate;
        }

        if (cartUpdated.OccurredAt <= Cart.LastActivityAt)
        {
            return EventOutcome.Stale;
        }

        Cart.LastActivityAt = cartUpdated.OccurredAt;
        Cart.LastActivityEventId = cartUpdated.EventId;
        Cart.UserId ??= cartUpdated.UserId;
        var taskToDelete = SkipPendingReminder(cartUpdated.OccurredAt, after: true, "cart active again");
        await state.WriteStateAsync();
        await TryDeleteTaskAsync(taskToDelete);
        return EventOutcome.Processed;
    }

    public async Task<EventOutcome> CartAbandonedAsync(CartAbandoned cartAbandoned)
    {
        if (Cart.Events.Contains(cartAbandoned.EventId))
        {
            return EventOutcome.Duplicate;
        }

        if (!Cart.IsNewerThanEverythingKnown(cartAbandoned.OccurredAt))
        {
            logger.LogInformation(
                "Cart {CartId}: abandonment {EventId} at {OccurredAt} is older than what the cart knows; no reminder",
                CartId, cartAbandoned.EventId, cartAbandoned.OccurredAt);
            await RememberAndSaveAsync(cartAbandoned);
            return EventOutcome.Stale;
        }

        var reminderId = ReminderIds.For(CartId, cartAbandoned.EventId);
        var dueAt = cartAbandoned.OccurredAt + remindersOptions.Value.Delay;
        var task = new ReminderTask(reminderId, CartId, cartAbandoned.UserId, cartAbandoned.EventId, dueAt);

        // The schedule is recorded only after the queue accepted it; if the queue throws, the push is retried.
        var taskName = await taskQueue.ScheduleAsync(task);

        var replaced = Cart.Reminder is { Status: ReminderStatus.Scheduled } previous ? previous.TaskName : null;
        Cart.AbandonedAt = cartAbandoned.OccurredAt;
        Cart.UserId = cartAbandoned.UserId;
        Cart.Reminder = new CartReminder
        {
            ReminderId = reminderId,
            TaskName = taskName,
            AbandonEventId = cartAbandoned.EventId,
            AbandonedAt = cartAbandoned.OccurredAt,
            DueAt = dueAt,
            Status = ReminderStatus.Scheduled,
            Total = cartAbandoned.Total,
            Currency = cartAbandoned.Currency,
        };
        await RememberAndSaveAsync(cartAbandoned);

        logger.LogInformation(
            "Cart {CartId}: abandoned by {EventId}; reminder {ReminderId} due at {DueAt}",
            CartId, cartAbandoned.EventId, reminderId, dueAt);
        await TryDeleteTaskAsync(replaced);
        return EventOutcome.Processed;
    }

    public async Task<EventOutcome> OrderPlacedAsync(OrderPlaced orderPlaced)
    {
        if (Cart.Events.Contains(orderPlaced.EventId))
        {
            return EventOutcome.Duplicate;
        }

        var firstHeard = !state.RecordExists;
        var outcome = EventOutcome.Stale;
        string? taskToDelete = null;
        if (orderPlaced.OccurredAt > Cart.PurchasedAt || Cart.PurchasedAt is null)
        {
            Cart.PurchasedAt = orderPlaced.OccurredAt;
            Cart.PurchaseOrderId = orderPlaced.OrderId;
            Cart.UserId ??= orderPlaced.UserId;
            taskToDelete = SkipPendingReminder(orderPlaced.OccurredAt, after: false, "cart purchased");
            outcome = EventOutcome.Processed;
        }

        await RememberAndSaveAsync(orderPlaced);
        await TryDeleteTaskAsync(taskToDelete);

        // A cart first heard of through its purchase (a buy-now) rarely hears more: it leaves memory now, as a
        // placed order does, instead of idling for three minutes (README, Performance). A cart with a history stays, so
        // that events still on their way find it active. Only when storage had no record of it, so a second activation
        // (a request that was queued behind this one is forwarded to it) never deactivates again.
        if (outcome == EventOutcome.Processed && firstHeard)
        {
            DeactivateOnIdle();
        }

        return outcome;
    }

    public async Task<ReminderResult> RemindAsync(ReminderDue due)
    {
        if (Cart.Reminder is not { } reminder || reminder.ReminderId != due.ReminderId)
        {
            if (AwaitsItsAbandonment(due))
            {
                return new ReminderResult(ReminderOutcome.NotRecordedYet, "the cart has not recorded the abandonment this reminder is for");
            }

            // A replaced reminder's task may still fire if its delete failed; the cart has moved on.
            return new ReminderResult(ReminderOutcome.Skipped, "reminder is not the cart's current one");
        }

        switch (reminder.Status)
        {
            case ReminderStatus.Sent:
                return new ReminderResult(ReminderOutcome.AlreadySent, null);
            case ReminderStatus.Skipped:
            case ReminderStatus.DeadLettered when !due.IsReplay && !due.RetriesDeadLetter:
                return new ReminderResult(ReminderOutcome.Skipped, reminder.Reason);
        }

        if (Cart.Status != CartStatus.Abandoned || Cart.AbandonedAt != reminder.AbandonedAt)
        {
            var reason = Cart.Status switch
            {
                CartStatus.Purchased => "cart purchased",
                CartStatus.Active => "cart active again",
                _ => "a newer abandonment replaced it",
            };
            Settle(reminder, ReminderStatus.Skipped, reason);
            await state.WriteStateAsync();
            return new ReminderResult(ReminderOutcome.Skipped, reason);
        }

        // Cloud Tasks calls at or after the due time; earlier means a forced run or a forged call, and sending now
        // would remind a shopper who may still be buying.
        if (time.GetUtcNow() + eventTimeOptions.Value.ClockSkew < reminder.DueAt)
        {
            return new ReminderResult(ReminderOutcome.NotYetDue, $"reminder is due at {reminder.DueAt:O}", reminder.DueAt);
        }

        if (OverdueWaitUntil(reminder, due) is { } waitUntil)
        {
            return new ReminderResult(ReminderOutcome.NotYetDue, "came back overdue; waiting for news still on its way", waitUntil);
        }

        var key = MessageTemplates.CartAbandonmentReminderKey(reminder.ReminderId);
        try
        {
            if (!Cart.Messages.Contains(key))
            {
                var sentAt = time.GetUtcNow();
                await messageSender.SendAsync(new OutboundMessage(
                    key, MessageTemplates.CartAbandonmentReminder, Cart.UserId!, reminder.AbandonEventId,
                    null, CartId, reminder.Total, reminder.Currency, sentAt));
                Cart.Messages.Record(key, sentAt);
            }
        }
        catch (Exception exception) when (due.IsLastAttempt)
        {
            logger.LogError(exception, "Cart {CartId}: reminder {ReminderId} failed on its last attempt; dead-lettered", CartId, reminder.ReminderId);
            Settle(reminder, ReminderStatus.DeadLettered, $"last attempt failed: {exception.Message}");
            await state.WriteStateAsync();
            return new ReminderResult(ReminderOutcome.DeadLettered, reminder.Reason);
        }

        Settle(reminder, ReminderStatus.Sent, null);
        await state.WriteStateAsync();
        logger.LogInformation("Cart {CartId}: reminder {ReminderId} sent to {UserId}", CartId, reminder.ReminderId, Cart.UserId);
        return new ReminderResult(ReminderOutcome.Sent, null);
    }

    public Task<CartView?> GetAsync()
    {
        if (!state.RecordExists)
        {
            return Task.FromResult<CartView?>(null);
        }

        return Task.FromResult<CartView?>(new CartView(
            CartId,
            Cart.Status,
            Cart.UserId,
            Cart.LastActivityAt,
            Cart.AbandonedAt,
            Cart.PurchasedAt,
            Cart.PurchaseOrderId,
            Cart.Reminder?.ToView(),
            Cart.Messages.ToViews(),
            Cart.Events.Seen.Count));
    }

    /// <summary>
    /// When the callback comes well past the reminder's due time, the time until which it waits: a paused queue released
    /// by a resume, or a late abandonment, dispatches at once, while the cart's purchase may still be on its way in a
    /// Pub/Sub backlog, which is pushed in no order. Not on the queue's last attempt, nor on an operator's replay.
    /// </summary>
    private DateTimeOffset? OverdueWaitUntil(CartReminder reminder, ReminderDue due)
    {
        var wait = remindersOptions.Value.OverdueWait;
        var now = time.GetUtcNow();
        if (wait <= TimeSpan.Zero || due.IsLastAttempt || due.IsReplay)
        {
            return null;
        }

        if (_overdueWait is not { } waiting || waiting.ReminderId != reminder.ReminderId)
        {
            if (now - reminder.DueAt < RemindersOptions.OverdueAfter)
            {
                return null;
            }

            waiting = (reminder.ReminderId, now + wait);
            _overdueWait = waiting;
        }

        // The wait lives in this activation: collected meanwhile (3 idle minutes), the next callback would meet a new one
        // and wait again. Every callback keeps it a while longer, as the queue's retries after a failed send come back.
        DelayDeactivation((waiting.Until > now ? waiting.Until - now : TimeSpan.Zero) + KeptPastOverdueWait);
        return now < waiting.Until ? waiting.Until : null;
    }

    /// <summary>
    /// True when the callback's abandonment is unknown to the cart and newer than its current reminder. The task is created
    /// before the abandonment is recorded (the effect first), so when that write fails the task can call back before the
    /// push's retry records it, and that retry's create meets the same task name and counts it scheduled: skipping now
    /// would lose the reminder for good.
    /// </summary>
    private bool AwaitsItsAbandonment(ReminderDue due) =>
        due.AbandonEventId is { } abandonEventId
        && !Cart.Events.Contains(abandonEventId)
        && (Cart.Reminder is null || due.DueAt > Cart.Reminder.DueAt);

    /// <summary>
    /// Marks a scheduled reminder skipped when news at <paramref name="occurredAt"/> supersedes its abandonment
    /// (strictly after it for activity; at or after it for a purchase). Returns the task to delete, if any.
    /// </summary>
    private string? SkipPendingReminder(DateTimeOffset occurredAt, bool after, string reason)
    {
        if (Cart.Reminder is not { Status: ReminderStatus.Scheduled } reminder)
        {
            return null;
        }

        var supersedes = after ? occurredAt > reminder.AbandonedAt : occurredAt >= reminder.AbandonedAt;
        if (!supersedes)
        {
            return null;
        }

        Settle(reminder, ReminderStatus.Skipped, reason);
        return reminder.TaskName;
    }

    private void Settle(CartReminder reminder, ReminderStatus status, string? reason)
    {
        reminder.Status = status;
        reminder.Reason = reason;
        reminder.SettledAt = time.GetUtcNow();
    }

    // Not async: the caller awaits the write itself, one state machine fewer per event.
    private Task RememberAndSaveAsync(IPulseCartEvent handled)
    {
        Cart.Events.Remember(handled.EventId, time.GetUtcNow(), dedupOptions.Value, handled.OccurredAt);
        return state.WriteStateAsync();
    }

    // Deleting is only tidiness: the callback re-checks the cart, so a task that survives sends nothing.
    private async Task TryDeleteTaskAsync(string? taskName)
    {
        if (taskName is null)
        {
            return;
        }

        try
        {
            await taskQueue.DeleteAsync(taskName);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Cart {CartId}: could not delete reminder task {TaskName}; its callback will skip it", CartId, taskName);
        }
    }
}
