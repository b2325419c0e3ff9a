using System.Text.Json;
using Microsoft.Extensions.Options;
using PulseCart.Abstractions.Carts;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.Events;
using PulseCart.Consumer.Quarantine;
using PulseCart.Consumer.Telemetry;
using PulseCart.Google.CloudTasks;
using PulseCart.Grains.Reminders;

namespace PulseCart.Consumer.Reminders;

/// <summary>
/// A reminder task calling back: wakes the cart, which re-checks itself and decides. Throws on transient failure,
/// so Cloud Tasks retries; a body that can never work, and a reminder that failed its last attempt, go to the quarantine.
/// A last attempt the quarantine cannot keep either (it shares Redis with the carts) carries on in a task of its own.
/// </summary>
public sealed class ReminderCallbackHandler(
    IGrainFactory grains,
    IQuarantine quarantine,
    ITaskQueue tasks,
    IOptions<RemindersOptions> options,
    ConsumerMetrics metrics,
    TimeProvider time,
    ILogger<ReminderCallbackHandler> logger)
{
    public const string RetryCountHeader = "X-CloudTasks-TaskRetryCount";
    public const string TaskNameHeader = "X-CloudTasks-TaskName";

    /// <summary>How many tasks may carry on one reminder after its own task's last attempt, each with the queue's full retries.</summary>
    public const int MaxContinuations = 3;

    private const string ContinuationMark = "-again-";

    /// <summary>
    /// An operator's replay: the cart re-checks as on a callback that is not the last attempt, and a reminder
    /// dead-lettered on its last attempt is tried again. A callback still unusable (<c>quarantined</c>,
    /// <c>dead_lettered</c>) is reported, not quarantined a second time.
    /// </summary>
    public Task<string> ReplayAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        HandleAsync(body, new HeaderDictionary(), isReplay: true, cancellationToken);

    public Task<string> HandleAsync(ReadOnlyMemory<byte> body, IHeaderDictionary headers, CancellationToken cancellationToken) =>
        HandleAsync(body, headers, isReplay: false, cancellationToken);

    private async Task<string> HandleAsync(ReadOnlyMemory<byte> body, IHeaderDictionary headers, bool isReplay, CancellationToken cancellationToken)
    {
        using var activity = ConsumerMetrics.Traces.StartActivity("pulsecart.reminder");
        var taskName = headers[TaskNameHeader].ToString();
        activity?.SetTag("pulsecart.task_name", taskName);
        var callback = Parse(body, out var rejection);
        if (callback is null)
        {
            await QuarantineAsync(!isReplay, body, rejection!, taskName, null, cancellationToken);
            return "quarantined";
        }

        // Without the header the caller is not Cloud Tasks (a manual replay, say): never treat it as the last attempt.
        var retryCount = int.TryParse(headers[RetryCountHeader], out var count) ? count : 0;
        var isLastAttempt = headers.ContainsKey(RetryCountHeader) && retryCount >= options.Value.MaxAttempts - 1;

        ReminderResult result;
        try
        {
            // A task carrying on a dead letter tries again what the quarantine could not keep.
            result = await grains.GetGrain<ICartGrain>(callback.CartId).RemindAsync(
                new ReminderDue(callback.ReminderId, isLastAttempt, isReplay, callback.EventId, callback.DueAt, RetriesDeadLetter: IsContinuation(taskName)));
        }
        catch (Exception exception) when (isLastAttempt || !TransientFailures.IsTransient(exception))
        {
            // The queue will not call again, or calling again would fail the same way: keep the reminder where an
            // operator sees it (and can replay it) rather than let it vanish or loop.
            return await DeadLetterAsync(
                isReplay, isLastAttempt, body, $"reminder failed {(isLastAttempt ? "on its last attempt" : "deterministically")}: {exception.GetType().Name}: {exception.Message}",
                taskName, callback, cancellationToken);
        }

        if (result.Outcome is ReminderOutcome.NotYetDue or ReminderOutcome.NotRecordedYet)
        {
            var why = result.Outcome == ReminderOutcome.NotYetDue ? $"not sent yet: {result.Reason}" : $"not decidable: {result.Reason}";
            if (isLastAttempt)
            {
                return await DeadLetterAsync(isReplay, isLastAttempt, body, $"reminder {why} on the queue's last attempt", taskName, callback, cancellationToken);
            }

            // Not yet recorded: the push's retry (Pub/Sub backs off 10 s and more) has to land first.
            var retryAfter = result.DueAt is { } dueAt ? dueAt - time.GetUtcNow() : TimeSpan.FromSeconds(10);
            throw new RetryLaterException($"reminder {callback.ReminderId} {why}", retryAfter);
        }

        logger.LogInformation(
            "Reminder {ReminderId} for cart {CartId} (task {TaskName}, retry {RetryCount}): {Outcome} {Reason}",
            callback.ReminderId, callback.CartId, taskName, retryCount, result.Outcome, result.Reason);
        if (result.Outcome == ReminderOutcome.DeadLettered)
        {
            return await DeadLetterAsync(isReplay, isLastAttempt, body, $"reminder dead-lettered: {result.Reason}", taskName, callback, cancellationToken);
        }

        metrics.Reminder(
            JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Outcome.ToString()),
            result.Outcome == ReminderOutcome.Skipped ? SkipReasonTag(result.Reason) : null);
        return JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Outcome.ToString());
    }

    // Metric tags must stay a small fixed set.
    private static string SkipReasonTag(string? reason) =>
        reason is "cart purchased" or "cart active again" or "a newer abandonment replaced it" or "reminder is not the cart's current one"
            ? reason
            : "other";

    private static CartReminderCallback? Parse(ReadOnlyMemory<byte> body, out string? rejection)
    {
        CartReminderCallback? callback;
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            rejection = "reminder callback is not valid UTF-8";
            return null;
        }

        try
        {
            callback = JsonSerializer.Deserialize(body.Span, CartReminderJsonContext.Default.CartReminderCallback);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or NotSupportedException)
        {
            rejection = $"reminder callback is not valid JSON: {exception.Message}";
            return null;
        }

        rejection = callback switch
        {
            null => "reminder callback is empty",
            _ when !EventParser.IsUsableId(callback.ReminderId) => "reminder_id is missing or unusable",
            _ when !EventParser.IsUsableId(callback.CartId) => "cart_id is missing or unusable",
            _ => null,
        };
        return rejection is null ? callback : null;
    }

    /// <summary>
    /// Keeps a reminder that will not be called back again in the quarantine. On the queue's last attempt, when the
    /// quarantine cannot keep it for a reason that passes (Redis down), a new task carries the same callback on, so an
    /// outage longer than the queue's retries does not lose it; the chain stops after <see cref="MaxContinuations"/>.
    /// </summary>
    private async Task<string> DeadLetterAsync(
        bool isReplay, bool isLastAttempt, ReadOnlyMemory<byte> body, string reason, string taskName, CartReminderCallback callback,
        CancellationToken cancellationToken)
    {
        try
        {
            await QuarantineAsync(!isReplay, body, reason, taskName, callback, cancellationToken);
        }
        catch (Exception failure) when (isLastAttempt && TransientFailures.IsTransient(failure) && NextTaskId(taskName) is { } next)
        {
            await tasks.ScheduleAsync(
                new ReminderTask(callback.ReminderId, callback.CartId, callback.UserId, callback.EventId, callback.DueAt, next), cancellationToken);
            logger.LogWarning(
                "Reminder {ReminderId} for cart {CartId}: task {TaskName} ran out of attempts ({Reason}) and the quarantine could not keep it ({Failure}); task {NextTask} carries it on",
                callback.ReminderId, callback.CartId, taskName, reason, failure.Message, next);
            metrics.Reminder("continued");
            return "continued";
        }

        metrics.Reminder("dead_lettered");
        return "dead_lettered";
    }

    // r-1 → r-1-again-1 → r-1-again-2 …; null once the chain is at its end or the name would be too long for a task id.
    private static string? NextTaskId(string taskName)
    {
        var (root, count) = Continuation(taskName);
        var next = $"{root}{ContinuationMark}{count + 1}";
        return taskName.Length > 0 && count < MaxContinuations && next.Length <= 500 ? next : null;
    }

    private static bool IsContinuation(string taskName) => Continuation(taskName).Count > 0;

    // The task a chain started from, and how far along the chain this one is (0 for the reminder's own task).
    private static (string Root, int Count) Continuation(string taskName)
    {
        var mark = taskName.LastIndexOf(ContinuationMark, StringComparison.Ordinal);
        return mark >= 0 && int.TryParse(taskName.AsSpan(mark + ContinuationMark.Length), out var n) && n > 0
            ? (taskName[..mark], n)
            : (taskName, 0);
    }

    private async Task QuarantineAsync(
        bool quarantineUnusable,
        ReadOnlyMemory<byte> body, string reason, string taskName, CartReminderCallback? callback, CancellationToken cancellationToken)
    {
        if (!quarantineUnusable)
        {
            return;
        }

        var entry = QuarantineEntry.Create(time.GetUtcNow(), "task", reason, taskName, null, callback?.EventId, "cart.reminder", body.Span);
        await quarantine.AddAsync(entry, cancellationToken);
        logger.LogWarning("Quarantined reminder callback {TaskName} as {QuarantineId}: {Reason}", taskName, entry.Id, reason);
    }
}
