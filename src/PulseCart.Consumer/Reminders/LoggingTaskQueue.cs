using Microsoft.Extensions.Logging;
using PulseCart.Grains.Reminders;

namespace PulseCart.Consumer.Reminders;

/// <summary>Records that a reminder is due without calling anything back; the Cloud Tasks queue replaces it.</summary>
public sealed class LoggingTaskQueue(ILogger<LoggingTaskQueue> logger) : ITaskQueue
{
    public Task<string> ScheduleAsync(ReminderTask task, CancellationToken cancellationToken = default)
    {
        logger.LogInformation(
            "Reminder {ReminderId} for cart {CartId} due at {DueAt} (logging task queue: no callback will run)",
            task.ReminderId, task.CartId, task.DueAt);
        return Task.FromResult($"log/{task.ReminderId}");
    }

    public Task DeleteAsync(string taskName, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Reminder task {TaskName} deleted", taskName);
        return Task.CompletedTask;
    }
}
