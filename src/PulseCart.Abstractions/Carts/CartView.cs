using PulseCart.Abstractions.Events;

namespace PulseCart.Abstractions.Carts;

public enum CartStatus
{
    Unknown,
    Active,
    Abandoned,
    Purchased,
}

public enum ReminderStatus
{
    /// <summary>Accepted by the task queue; waiting for its due time.</summary>
    Scheduled,

    /// <summary>The reminder message was sent.</summary>
    Sent,

    /// <summary>Not sent: the cart was purchased or active again, or a newer abandonment replaced it.</summary>
    Skipped,

    /// <summary>Sending failed on the last allowed attempt; the reminder is in the quarantine.</summary>
    DeadLettered,
}

[GenerateSerializer, Immutable]
public sealed record ReminderView(
    [property: Id(0)] string ReminderId,
    [property: Id(1)] string TaskName,
    [property: Id(2)] string AbandonEventId,
    [property: Id(3)] DateTimeOffset DueAt,
    [property: Id(4)] ReminderStatus Status,
    [property: Id(5)] string? Reason,
    [property: Id(6)] DateTimeOffset? SettledAt);

[GenerateSerializer, Immutable]
public sealed record CartView(
    [property: Id(0)] string CartId,
    [property: Id(1)] CartStatus Status,
    [property: Id(2)] string? UserId,
    [property: Id(3)] DateTimeOffset? LastActivityAt,
    [property: Id(4)] DateTimeOffset? AbandonedAt,
    [property: Id(5)] DateTimeOffset? PurchasedAt,
    [property: Id(6)] string? PurchaseOrderId,
    [property: Id(7)] ReminderView? Reminder,
    [property: Id(8)] IReadOnlyList<SentMessageView> Messages,
    [property: Id(9)] int RememberedEventIds);
