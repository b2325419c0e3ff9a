using PulseCart.Consumer.PubSub;
using PulseCart.Consumer.Quarantine;
using PulseCart.Consumer.Reminders;

namespace PulseCart.Consumer.Ops;

/// <summary>What an action on one entry came to, in the terms the bulk counts use.</summary>
public enum EntryOutcome
{
    Processed,
    Duplicate,
    Stale,
    Ignored,
    StillUnusable,
    Failed,
    AlreadyReplayed,
    Discarded,
    AlreadyDiscarded,
    Gone,
}

/// <summary>One entry's replay: the verdict, the outcome the push or reminder path named, and why it is still unusable.</summary>
public readonly record struct ReplayAttempt(EntryOutcome Verdict, string Outcome, string? Reason = null)
{
    /// <summary>Replayed for good: the entry is marked and never replayed again.</summary>
    public bool Took => Verdict is EntryOutcome.Processed or EntryOutcome.Duplicate or EntryOutcome.Stale or EntryOutcome.Ignored;
}

/// <summary>
/// What operators can do to a quarantined entry, one entry at a time: replay it (its edited body if it has one),
/// discard it, edit it and replay. Bulk actions and the single-entry endpoints both come here. A replay goes through
/// the push path (or the reminder path) exactly as a delivery would, so its dedup guarantees that nothing is sent
/// twice; on top of that an entry that was replayed for good is never sent again, and a discarded one never at all.
/// </summary>
public sealed class QuarantineActions(IQuarantine quarantine, PushHandler pushes, ReminderCallbackHandler reminders, TimeProvider time)
{
    public async Task<ReplayAttempt> ReplayAsync(string id, string who, CancellationToken cancellationToken)
    {
        if (await quarantine.GetAsync(id, cancellationToken) is not { } entry)
        {
            return new ReplayAttempt(EntryOutcome.Gone, "gone");
        }

        if (entry.ReplayedAt is not null)
        {
            return new ReplayAttempt(EntryOutcome.AlreadyReplayed, entry.ReplayOutcome ?? "replayed");
        }

        if (entry.DiscardedAt is not null)
        {
            return new ReplayAttempt(EntryOutcome.AlreadyDiscarded, "discarded", $"discarded by {entry.DiscardedBy} at {entry.DiscardedAt:O}");
        }

        ReplayAttempt attempt;
        try
        {
            attempt = entry.Source == "task"
                ? FromReminder(await reminders.ReplayAsync(entry.BodyToReplay, cancellationToken))
                : FromPush(await pushes.ReplayAsync(entry.BodyToReplay, entry.Signature, cancellationToken));
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The replay paths quarantine nothing and throw only what a retry can get past.
            return new ReplayAttempt(EntryOutcome.Failed, "failed", $"transient failure, try again: {exception.GetType().Name}");
        }

        if (attempt.Took)
        {
            // Two operators replaying at once both went through dedup; the first outcome recorded stays.
            await quarantine.UpdateAsync(id, current => current.ReplayedAt is null
                ? current with { ReplayedAt = time.GetUtcNow(), ReplayOutcome = attempt.Outcome, ReplayedBy = who }
                : current, CancellationToken.None);
        }

        return attempt;
    }

    /// <summary>
    /// Marks the entry discarded (it stays, for the record): <see cref="EntryOutcome.Discarded"/>, or what it was
    /// before (<see cref="EntryOutcome.AlreadyDiscarded"/>; <see cref="EntryOutcome.AlreadyReplayed"/>, which cannot be
    /// discarded), or <see cref="EntryOutcome.Gone"/>.
    /// </summary>
    public async Task<(QuarantineEntry? Entry, EntryOutcome Outcome)> DiscardAsync(string id, string who, CancellationToken cancellationToken)
    {
        var outcome = EntryOutcome.Gone;
        var entry = await quarantine.UpdateAsync(id, current =>
        {
            outcome = current.ReplayedAt is not null ? EntryOutcome.AlreadyReplayed
                : current.DiscardedAt is not null ? EntryOutcome.AlreadyDiscarded
                : EntryOutcome.Discarded;
            return outcome == EntryOutcome.Discarded ? current with { DiscardedAt = time.GetUtcNow(), DiscardedBy = who } : current;
        }, cancellationToken);
        return (entry, entry is null ? EntryOutcome.Gone : outcome);
    }

    /// <summary>
    /// Keeps <paramref name="body"/> beside the original as the body to replay, then replays it. Refused (null) for an
    /// entry already replayed for good or discarded: there is nothing left to fix.
    /// </summary>
    public async Task<(QuarantineEntry? Entry, ReplayAttempt? Attempt)> EditAndReplayAsync(string id, ReadOnlyMemory<byte> body, string who, CancellationToken cancellationToken)
    {
        var refused = false;
        var entry = await quarantine.UpdateAsync(id, current =>
        {
            refused = current.State != QuarantineStates.Open;
            return refused ? current : current with { EditedAt = time.GetUtcNow(), EditedBy = who, EditedBody = body.ToArray() };
        }, cancellationToken);
        if (entry is null || refused)
        {
            return (entry, null);
        }

        return (entry, await ReplayAsync(id, who, cancellationToken));
    }

    private static ReplayAttempt FromPush(PushResult result) => result.Outcome switch
    {
        PushOutcome.Processed => new(EntryOutcome.Processed, result.Name),
        PushOutcome.Duplicate => new(EntryOutcome.Duplicate, result.Name),
        PushOutcome.Stale => new(EntryOutcome.Stale, result.Name),
        PushOutcome.Ignored => new(EntryOutcome.Ignored, result.Name),
        _ => new(EntryOutcome.StillUnusable, result.Name, result.Reason),
    };

    private static ReplayAttempt FromReminder(string outcome) => outcome switch
    {
        "sent" => new(EntryOutcome.Processed, outcome),
        "already_sent" => new(EntryOutcome.Duplicate, outcome),
        "skipped" => new(EntryOutcome.Stale, outcome),
        _ => new(EntryOutcome.StillUnusable, outcome, $"the reminder callback is still unusable ({outcome})"),
    };
}
