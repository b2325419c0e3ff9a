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
    Replaying,
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
/// A replay claims the entry in the store while it runs, so that no operator on any silo discards it, edits it or
/// replays it again until it has ended (<see cref="EntryOutcome.Replaying"/>).
/// </summary>
public sealed class QuarantineActions(IQuarantine quarantine, PushHandler pushes, ReminderCallbackHandler reminders, TimeProvider time)
{
    private static readonly ReplayAttempt Gone = new(EntryOutcome.Gone, "gone");

    public Task<ReplayAttempt> ReplayAsync(string id, string who, CancellationToken cancellationToken) =>
        ClaimAndReplayAsync(id, who, edit: null, cancellationToken);

    /// <summary>
    /// Keeps <paramref name="body"/> beside the original as the body to replay, then replays it. Refused, with nothing
    /// kept, for an entry replayed for good, discarded, or being replayed: the attempt says which.
    /// </summary>
    public Task<ReplayAttempt> EditAndReplayAsync(string id, ReadOnlyMemory<byte> body, string who, CancellationToken cancellationToken) =>
        ClaimAndReplayAsync(id, who, body, cancellationToken);

    /// <summary>
    /// Marks the entry discarded (it stays, for the record): <see cref="EntryOutcome.Discarded"/>, or why not
    /// (<see cref="EntryOutcome.AlreadyDiscarded"/>, <see cref="EntryOutcome.AlreadyReplayed"/>,
    /// <see cref="EntryOutcome.Replaying"/>), or <see cref="EntryOutcome.Gone"/>.
    /// </summary>
    public async Task<(QuarantineEntry? Entry, ReplayAttempt Outcome)> DiscardAsync(string id, string who, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        ReplayAttempt? refused = null;
        var entry = await quarantine.UpdateAsync(id, current =>
        {
            refused = Refusal(current, now);
            return refused is null ? current with { DiscardedAt = now, DiscardedBy = who } : current;
        }, cancellationToken);
        return (entry, entry is null ? Gone : refused ?? new ReplayAttempt(EntryOutcome.Discarded, "discarded"));
    }

    private async Task<ReplayAttempt> ClaimAndReplayAsync(string id, string who, ReadOnlyMemory<byte>? edit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        ReplayAttempt? refused = null;
        var claimed = await quarantine.UpdateAsync(id, current =>
        {
            refused = Refusal(current, now);
            if (refused is not null)
            {
                return current;
            }

            var claim = current with { ReplayingSince = now, ReplayingBy = who };
            return edit is { } body ? claim with { EditedAt = now, EditedBy = who, EditedBody = body.ToArray() } : claim;
        }, cancellationToken);
        if (claimed is null)
        {
            return Gone;
        }

        if (refused is { } refusal)
        {
            return refusal;
        }

        // The bodies as kept: under the claim no one else edits them. Nothing has been sent when this read fails,
        // so the claim is let go at once rather than holding the entry until it lapses.
        QuarantineEntry? entry;
        try
        {
            entry = await quarantine.GetAsync(id, cancellationToken);
        }
        catch
        {
            await TryReleaseAsync(id, now, who);
            throw;
        }

        if (entry is null)
        {
            return Gone;
        }

        ReplayAttempt attempt;
        try
        {
            attempt = entry.Source == "task"
                ? FromReminder(await reminders.ReplayAsync(entry.BodyToReplay, cancellationToken))
                : FromPush(await pushes.ReplayAsync(entry.BodyToReplay, entry.Signature, cancellationToken));
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            // Given up on, not ended: the grain may still send. The claim stays until it lapses, so that no one
            // discards or edits what may yet go out.
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return new ReplayAttempt(EntryOutcome.Failed, "failed",
                $"{exception.GetType().Name}: the replay may still complete, so the entry stays held until {now + QuarantineEntry.ReplayClaimLifetime:O}");
        }
        catch (Exception exception)
        {
            // The replay paths quarantine nothing and throw only what a retry can get past; this one has ended.
            attempt = new ReplayAttempt(EntryOutcome.Failed, "failed", $"transient failure, try again: {exception.GetType().Name}");
        }

        // The claim ends; the first outcome recorded stays (a claim that lapsed mid-replay lets a second replay through dedup).
        await quarantine.UpdateAsync(id, current =>
        {
            var released = Released(current, now, who);
            return attempt.Took && released.ReplayedAt is null
                ? released with { ReplayedAt = time.GetUtcNow(), ReplayOutcome = attempt.Outcome, ReplayedBy = who }
                : released;
        }, CancellationToken.None);
        return attempt;
    }

    /// <summary>The entry without this replay's claim; a claim someone else took after this one lapsed stays.</summary>
    private static QuarantineEntry Released(QuarantineEntry entry, DateTimeOffset claimedAt, string who) =>
        entry.ReplayingSince == claimedAt && entry.ReplayingBy == who ? entry with { ReplayingSince = null, ReplayingBy = null } : entry;

    /// <summary>Lets go of a claim under which nothing was sent; when the store fails again the claim lapses on its own.</summary>
    private async Task TryReleaseAsync(string id, DateTimeOffset claimedAt, string who)
    {
        try
        {
            await quarantine.UpdateAsync(id, current => Released(current, claimedAt, who), CancellationToken.None);
        }
        catch (Exception)
        {
            // The read's failure is the one to report.
        }
    }

    /// <summary>Why nothing may be done to the entry now, or null when it is open and no replay holds it.</summary>
    private static ReplayAttempt? Refusal(QuarantineEntry entry, DateTimeOffset now) =>
        entry.ReplayedAt is not null ? new ReplayAttempt(EntryOutcome.AlreadyReplayed, entry.ReplayOutcome ?? "replayed")
        : entry.DiscardedAt is not null ? new ReplayAttempt(EntryOutcome.AlreadyDiscarded, "discarded", $"discarded by {entry.DiscardedBy} at {entry.DiscardedAt:O}")
        : entry.IsReplaying(now) ? new ReplayAttempt(EntryOutcome.Replaying, "replaying", $"a replay by {entry.ReplayingBy} since {entry.ReplayingSince:O} is still running: try again when it ends")
        : null;

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
