namespace PulseCart.Grains.Reminders;

/// <summary>
/// The port carts schedule reminder callbacks through (Cloud Tasks, or its embedded emulator).
/// A task that already exists under the same name counts as scheduled.
/// </summary>
public interface ITaskQueue
{
    /// <summary>Schedules the callback and returns the queue's name for the task once the queue accepted it.</summary>
    Task<string> ScheduleAsync(ReminderTask task, CancellationToken cancellationToken = default);

    /// <summary>Deletes a scheduled task; callers treat failure as harmless because the callback re-checks the cart.</summary>
    Task DeleteAsync(string taskName, CancellationToken cancellationToken = default);
}

/// <summary>
/// A reminder callback to run at <see cref="DueAt"/>. <see cref="ReminderId"/> doubles as the task id unless
/// <see cref="TaskId"/> names another: a task that carries on a reminder whose own task ran out of attempts.
/// </summary>
public sealed record ReminderTask(
    string ReminderId,
    string CartId,
    string UserId,
    string EventId,
    DateTimeOffset DueAt,
    string? TaskId = null);
