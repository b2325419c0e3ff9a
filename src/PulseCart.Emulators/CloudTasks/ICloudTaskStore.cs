namespace PulseCart.Emulators.CloudTasks;

/// <summary>
/// Where the emulator keeps tasks, their schedule and the names reserved after a task ran or was deleted.
/// Every time is the emulator's clock, so reservations expire when a test advances its fake clock.
/// </summary>
internal interface ICloudTaskStore
{
    /// <summary>Adds the task unless a task with its name exists or the name is still reserved.</summary>
    ValueTask<bool> TryAddAsync(EmulatedTask task, DateTimeOffset now);

    ValueTask<EmulatedTask?> GetAsync(string name);

    /// <summary>The queue's tasks in schedule order.</summary>
    ValueTask<IReadOnlyList<EmulatedTask>> ListAsync(string queue);

    /// <summary>Removes the task and reserves its name until <paramref name="reservedUntil"/>; false if it was not there.</summary>
    ValueTask<bool> RemoveAsync(string name, DateTimeOffset now, DateTimeOffset reservedUntil);

    /// <summary>Removes every task of the queue, reserving each name until <paramref name="reservedUntil"/>.</summary>
    ValueTask PurgeAsync(string queue, DateTimeOffset now, DateTimeOffset reservedUntil);

    /// <summary>Replaces a task that is still stored (one deleted meanwhile stays deleted); false if it was not there.</summary>
    ValueTask<bool> UpdateAsync(EmulatedTask task);

    /// <summary>Names of up to <paramref name="limit"/> tasks of the queue due at <paramref name="now"/>, earliest first.</summary>
    ValueTask<IReadOnlyList<string>> DueAsync(string queue, DateTimeOffset now, int limit);

    /// <summary>When the queue's next task after <paramref name="now"/> is due, if any.</summary>
    ValueTask<DateTimeOffset?> NextDueAfterAsync(string queue, DateTimeOffset now);
}

internal static class TaskNames
{
    /// <summary>The queue part of <c>projects/P/locations/L/queues/Q/tasks/T</c>.</summary>
    public static string QueueOf(string taskName) => taskName[..taskName.LastIndexOf("/tasks/", StringComparison.Ordinal)];
}
