namespace PulseCart.Emulators.CloudTasks;

/// <summary>What became of a task after one dispatch attempt.</summary>
public enum CloudTaskAttemptOutcome
{
    /// <summary>The handler answered 2xx; the task is gone and its name reserved.</summary>
    Succeeded,

    /// <summary>The attempt failed and the task is scheduled again.</summary>
    WillRetry,

    /// <summary>The attempt failed and the queue's retry limits are used up; the task was dropped.</summary>
    Failed,
}

/// <summary>One dispatch attempt of an emulated task, as operators and tests see it.</summary>
/// <param name="TaskName">The full task name.</param>
/// <param name="Attempt">1 for the first attempt.</param>
/// <param name="StatusCode">The handler's HTTP status, or null when it gave no answer.</param>
/// <param name="Error">Why there was no answer (for example <c>DEADLINE_EXCEEDED</c>), or null.</param>
/// <param name="DispatchedAt">When the request was sent, on the emulator's clock.</param>
/// <param name="CompletedAt">When the answer or failure came, on the emulator's clock.</param>
/// <param name="Outcome">What happened to the task.</param>
/// <param name="NextAttemptAt">When the task is tried again, for <see cref="CloudTaskAttemptOutcome.WillRetry"/>.</param>
public sealed record CloudTaskAttempt(
    string TaskName,
    int Attempt,
    int? StatusCode,
    string? Error,
    DateTimeOffset DispatchedAt,
    DateTimeOffset CompletedAt,
    CloudTaskAttemptOutcome Outcome,
    DateTimeOffset? NextAttemptAt);
