namespace PulseCart.Consumer.Pause;

/// <summary>
/// The pause switch while it is on, as every instance reads it: since when, who, and what became of each part. Kept
/// only while paused (resume removes it), so its absence means deliveries flow.
/// </summary>
/// <param name="SavedPushConfig">
/// The subscription's push config as Pub/Sub described it before the switch detached it (proto JSON of
/// <c>google.pubsub.v1.PushConfig</c>); resume puts exactly this back. Null when nothing was detached.
/// </param>
public sealed record PauseState(
    DateTimeOffset Since,
    string By,
    string? Subscription,
    string Queue,
    string? SavedPushConfig,
    PausePart? Pushes,
    PausePart? Reminders);

/// <summary>
/// One part of the switch (pushes or reminders): its state, what it means, the role the service account lacks when
/// Google refused, and whether the switch holds it (has detached or paused it, and must give it back on resume).
/// </summary>
public sealed record PausePart(string State, string Detail, string? MissingRole, bool Held, DateTimeOffset At)
{
    /// <summary>Pushes: the endpoint is detached, messages wait in the subscription.</summary>
    public const string Detached = "detached";

    /// <summary>Pushes: the subscription pushes (again).</summary>
    public const string Pushing = "pushing";

    /// <summary>Pushes: the subscription had no push endpoint when paused; nothing was detached, nothing is restored.</summary>
    public const string NotPushing = "not_pushing";

    /// <summary>Pushes: no subscription is configured, so pushes are not held.</summary>
    public const string NotConfigured = "not_configured";

    /// <summary>Reminders: the queue is paused by the switch.</summary>
    public const string Paused = "paused";

    /// <summary>Reminders: the queue was paused before the switch; resume leaves it paused.</summary>
    public const string AlreadyPaused = "already_paused";

    /// <summary>Reminders: the queue dispatches (again).</summary>
    public const string Running = "running";

    /// <summary>Google refused or did not answer; <see cref="Detail"/> says why, <see cref="MissingRole"/> what to grant.</summary>
    public const string Failed = "failed";
}

/// <summary>Where the switch is kept: Redis when configured (every instance, across restarts), else this process's memory.</summary>
public interface IPauseStore
{
    /// <summary>The switch, or null when deliveries are not paused.</summary>
    Task<PauseState?> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>Records a pause unless one is recorded already; returns the one recorded (ours, or the earlier one).</summary>
    Task<PauseState> StartAsync(PauseState state, CancellationToken cancellationToken = default);

    /// <summary>Records what became of the parts; never changes a saved push config.</summary>
    Task SaveAsync(PauseState state, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps the push config to restore, unless one is kept already: a second pause must not replace the real config
    /// with the detached one. Returns the config kept.
    /// </summary>
    Task<string> KeepPushConfigAsync(string pushConfig, CancellationToken cancellationToken = default);

    /// <summary>Removes the switch and its saved push config: deliveries flow.</summary>
    Task ClearAsync(CancellationToken cancellationToken = default);
}
