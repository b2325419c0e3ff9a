namespace PulseCart.Abstractions.Carts;

/// <summary>
/// A reminder task calling back: which reminder, for which abandonment and due when (as the task says), and whether
/// the queue will try again if this attempt fails. An operator's replay of a quarantined callback says so
/// (<see cref="IsReplay"/>): a reminder dead-lettered while the messaging sink was down is then tried again, at once.
/// A task carrying on a dead letter the quarantine could not keep tries it again too (<see cref="RetriesDeadLetter"/>),
/// but like any callback still waits for news when it comes overdue.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReminderDue(
    [property: Id(0)] string ReminderId,
    [property: Id(1)] bool IsLastAttempt,
    [property: Id(2)] bool IsReplay = false,
    [property: Id(3)] string? AbandonEventId = null,
    [property: Id(4)] DateTimeOffset? DueAt = null,
    [property: Id(5)] bool RetriesDeadLetter = false);

public enum ReminderOutcome
{
    /// <summary>The reminder message was sent now.</summary>
    Sent,

    /// <summary>An earlier attempt already sent it; nothing sent again.</summary>
    AlreadySent,

    /// <summary>Not sent: purchased, active again, replaced by a newer abandonment, or unknown to the cart.</summary>
    Skipped,

    /// <summary>Sending failed on the last allowed attempt; the caller quarantines it and acknowledges.</summary>
    DeadLettered,

    /// <summary>The callback came before the reminder's due time (beyond the clock skew): nothing sent, ask again later.</summary>
    NotYetDue,

    /// <summary>The cart has not yet recorded the abandonment that created the task (its push is being retried): ask again later.</summary>
    NotRecordedYet,
}

[GenerateSerializer, Immutable]
public sealed record ReminderResult(
    [property: Id(0)] ReminderOutcome Outcome,
    [property: Id(1)] string? Reason,
    [property: Id(2)] DateTimeOffset? DueAt = null);
