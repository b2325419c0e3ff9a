namespace PulseCart.Grains.Messaging;

/// <summary>
/// A message to a shopper. <see cref="IdempotencyKey"/> is derived from what caused the message, so a repeat
/// send after a crash carries the same key and the messaging service can drop it.
/// </summary>
public sealed record OutboundMessage(
    string IdempotencyKey,
    string Template,
    string UserId,
    string EventId,
    string? OrderId,
    string? CartId,
    decimal? Total,
    string? Currency,
    DateTimeOffset SentAt);

public static class MessageTemplates
{
    public const string OrderConfirmation = "order_confirmation";
    public const string PaymentRetry = "payment_retry";
    public const string CartAbandonmentReminder = "cart_abandonment_reminder";

    public static string OrderConfirmationKey(string orderId) => $"{OrderConfirmation}:{orderId}";

    public static string PaymentRetryKey(string eventId) => $"{PaymentRetry}:{eventId}";

    public static string CartAbandonmentReminderKey(string reminderId) => $"{CartAbandonmentReminder}:{reminderId}";

    /// <summary>
    /// True for a key that one event (a payment failure, an abandonment) caused; false for one that stands for the
    /// order itself, which must be remembered as long as the order is.
    /// </summary>
    public static bool IsPerEventKey(string idempotencyKey) => !idempotencyKey.StartsWith($"{OrderConfirmation}:", StringComparison.Ordinal);
}
