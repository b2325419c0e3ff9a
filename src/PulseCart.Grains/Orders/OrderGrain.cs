using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Abstractions.Events;
using PulseCart.Abstractions.Orders;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Orders;

// Most carts and orders hear a handful of events within minutes; holding them the default 15 minutes costs
// ~3 KiB each under load (1M carts: 3.5 GiB). A later event reactivates from storage.
[CollectionAgeLimit(Minutes = 3)]
public sealed partial class OrderGrain(
    [PersistentState("order", GrainStorage.Name)] IPersistentState<OrderState> state,
    IMessageSender messageSender,
    IOptions<DedupOptions> dedupOptions,
    TimeProvider time,
    ILogger<OrderGrain> logger) : Grain, IOrderGrain
{
    private OrderState Order => state.State;

    private string OrderId => this.GetPrimaryKeyString();

    // The state is read here rather than in Orleans' grain lifecycle, which this grain then never runs (DirectPersistentState).
    public override Task OnActivateAsync(CancellationToken cancellationToken) => state.ReadOnActivationAsync();

    public async Task<EventOutcome> OrderPlacedAsync(OrderPlaced orderPlaced)
    {
        if (Order.Events.Contains(orderPlaced.EventId))
        {
            return EventOutcome.Duplicate;
        }

        // A second, distinct order.placed for the same order confirms nothing new.
        var key = MessageTemplates.OrderConfirmationKey(OrderId);
        var outcome = EventOutcome.Stale;
        if (!Order.Messages.Contains(key))
        {
            await SendAsync(new OutboundMessage(
                key, MessageTemplates.OrderConfirmation, orderPlaced.UserId, orderPlaced.EventId,
                OrderId, orderPlaced.CartId, orderPlaced.Total, orderPlaced.Currency, time.GetUtcNow()));
            Order.UserId = orderPlaced.UserId;
            Order.CartId = orderPlaced.CartId;
            Order.PlacedAt = orderPlaced.OccurredAt;
            Order.Total = orderPlaced.Total;
            Order.Currency = orderPlaced.Currency;
            outcome = EventOutcome.Processed;
        }

        await RememberAndSaveAsync(orderPlaced);

        // Most orders hear nothing more once placed, so this one leaves memory now instead of idling for three minutes (a
        // later event reactivates it from storage): under a stream of new orders, grains held only to idle were most of
        // the heap each garbage collection marked (README, Performance). Only the first placement: a request queued
        // behind it is forwarded to the next activation, and Orleans rejects one forwarded twice (the router then calls
        // again), so a burst of order.placed for one order must not deactivate it again and again.
        if (outcome == EventOutcome.Processed)
        {
            DeactivateOnIdle();
        }

        return outcome;
    }

    public async Task<EventOutcome> PaymentFailedAsync(PaymentFailed paymentFailed)
    {
        if (Order.Events.Contains(paymentFailed.EventId))
        {
            return EventOutcome.Duplicate;
        }

        var key = MessageTemplates.PaymentRetryKey(paymentFailed.EventId);
        if (!Order.Messages.Contains(key))
        {
            await SendAsync(new OutboundMessage(
                key, MessageTemplates.PaymentRetry, paymentFailed.UserId, paymentFailed.EventId,
                OrderId, Order.CartId, Order.Total, Order.Currency, time.GetUtcNow()));
        }

        Order.UserId ??= paymentFailed.UserId;
        Order.PaymentFailures++;
        if (paymentFailed.OccurredAt > Order.LastPaymentFailureAt || Order.LastPaymentFailureAt is null)
        {
            Order.LastPaymentFailureAt = paymentFailed.OccurredAt;
        }

        await RememberAndSaveAsync(paymentFailed);
        return EventOutcome.Processed;
    }

    public Task<OrderView?> GetAsync()
    {
        if (!state.RecordExists)
        {
            return Task.FromResult<OrderView?>(null);
        }

        return Task.FromResult<OrderView?>(new OrderView(
            OrderId,
            Order.UserId,
            Order.CartId,
            Order.PlacedAt,
            Order.Total,
            Order.Currency,
            Order.PaymentFailures,
            Order.LastPaymentFailureAt,
            Order.Messages.ToViews(),
            Order.Events.Seen.Count));
    }

    private async Task SendAsync(OutboundMessage message)
    {
        await messageSender.SendAsync(message);
        Order.Messages.Record(message.IdempotencyKey, message.SentAt);
        LogSent(logger, OrderId, message.Template, message.EventId, messageSender.Sink);
    }

    // Not async: the caller awaits the write itself, one state machine fewer per event.
    private Task RememberAndSaveAsync(IPulseCartEvent handled)
    {
        Order.Events.Remember(handled.EventId, time.GetUtcNow(), dedupOptions.Value, handled.OccurredAt);
        return state.WriteStateAsync();
    }

    // Generated: no argument array per message when Information is off.
    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId}: sent {Template} for {EventId} through {Sink}")]
    private static partial void LogSent(ILogger logger, string orderId, string template, string eventId, string sink);
}
