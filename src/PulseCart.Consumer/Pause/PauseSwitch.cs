using System.Net;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using PulseCart.Google.CloudTasks;
using PulseCart.Google.PubSub;
using PulseCart.GoogleApis.PubSub.V1;
using QueueState = PulseCart.GoogleApis.CloudTasks.V2.Queue.Types.State;

namespace PulseCart.Consumer.Pause;

/// <summary>
/// What a pause or resume did, step by step; the parts as they ended; whether Google refused a part; whether the switch
/// is on afterwards.
/// </summary>
public sealed record PauseOutcome(PauseState? State, IReadOnlyList<string> Done, bool Failed, bool Paused);

/// <summary>
/// The operator pause switch. It holds deliveries back with the services' own mechanisms, so nothing is lost, nothing
/// counts as a delivery attempt and nothing reaches a dead-letter topic: Pub/Sub's <c>modifyPushConfig</c> detaches the
/// push endpoint (messages wait in the subscription) after the config is saved, and Cloud Tasks' <c>queues.pause</c>
/// stops reminder dispatches (tasks wait in the queue). Resume puts the saved push config back, then resumes the queue.
/// Both are safe to repeat, report each part, and never leave a part half done without saying so.
/// </summary>
public sealed class PauseSwitch(
    IPauseStore store,
    PushSubscription subscription,
    CloudTasksQueue queue,
    IOptions<CloudTasksOptions> tasks,
    TimeProvider time,
    ILogger<PauseSwitch> logger)
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    // One action at a time in this instance; across instances the store keeps the first pause and the first saved config.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile PauseState? _current;

    /// <summary>The switch as this instance last read or set it; what the gauge and the start-up log report.</summary>
    public PauseState? Current => _current;

    /// <summary>The subscription the switch detaches, or null when none is configured.</summary>
    public string? Subscription => subscription.Name;

    /// <summary>The reminder queue the switch pauses.</summary>
    public string Queue => tasks.Value.QueuePath;

    /// <summary>Reads the shared switch (and remembers it for <see cref="Current"/>).</summary>
    public async Task<PauseState?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var state = await store.GetAsync(cancellationToken);
        _current = state;
        return state;
    }

    /// <summary>
    /// Holds pushes and reminders back. The pause is recorded before anything changes, the push config is saved before
    /// the endpoint is detached, and a part already held is applied again (harmless, and it repairs a part someone
    /// changed by hand), never saved again.
    /// </summary>
    public async Task<PauseOutcome> PauseAsync(string who, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var done = new List<string>();
            var state = await store.StartAsync(
                new PauseState(time.GetUtcNow(), who, subscription.Name, Queue, SavedPushConfig: null, Pushes: null, Reminders: null), cancellationToken);
            // Each part is recorded as soon as it is done, so a pause that stops part-way leaves what it held on record.
            state = await HoldPushesAsync(state, done, cancellationToken);
            await store.SaveAsync(state, cancellationToken);
            state = await HoldRemindersAsync(state, done, cancellationToken);
            var failed = state.Pushes?.State == PausePart.Failed || state.Reminders?.State == PausePart.Failed;
            if (failed && state.Pushes?.Held != true && state.Reminders?.Held != true)
            {
                // Nothing is held: no instance may show a pause that does not exist. The answer still names what failed.
                await store.ClearAsync(cancellationToken);
                _current = null;
                logger.LogWarning(
                    "Pause by {Operator} held nothing back: pushes {Pushes} ({PushesDetail}), reminders {Reminders} ({RemindersDetail})",
                    who, state.Pushes?.State, state.Pushes?.Detail, state.Reminders?.State, state.Reminders?.Detail);
                return new PauseOutcome(state, done, Failed: true, Paused: false);
            }

            await store.SaveAsync(state, cancellationToken);
            _current = state;
            logger.LogInformation(
                "Deliveries paused since {Since} by {Operator} (this time asked by {Asker}): pushes {Pushes}, reminders {Reminders}",
                state.Since, state.By, who, state.Pushes?.State, state.Reminders?.State);
            return new PauseOutcome(state, done, failed, Paused: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Gives back what the switch holds: restores the saved push config exactly, then resumes the queue. When every part is
    /// back the switch is removed; a part Google refused stays held and is reported, so resuming again finishes it.
    /// Resuming when not paused changes nothing.
    /// </summary>
    public async Task<PauseOutcome> ResumeAsync(string who, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var state = await store.GetAsync(cancellationToken);
            if (state is null)
            {
                _current = null;
                return new PauseOutcome(null, ["not paused: nothing to resume, nothing changed"], Failed: false, Paused: false);
            }

            // Pushes first: reminders released while the purchases held with them still wait would remind carts
            // already bought, once their overdue wait ran out.
            var done = new List<string>();
            state = await ReleasePushesAsync(state, done, cancellationToken);
            if (state.Pushes is { Held: true } && state.Reminders is { Held: true })
            {
                done.Add($"left queue {Queue} paused until pushes are back: a reminder must not overtake a purchase still held");
            }
            else
            {
                state = await ReleaseRemindersAsync(state, done, cancellationToken);
            }
            var failed = state.Pushes?.Held == true || state.Reminders?.Held == true;
            if (failed)
            {
                await store.SaveAsync(state, cancellationToken);
                _current = state;
                logger.LogWarning(
                    "Resume by {Operator} is incomplete: pushes {Pushes}, reminders {Reminders}; deliveries stay paused until it succeeds",
                    who, state.Pushes?.State, state.Reminders?.State);
                return new PauseOutcome(state, done, Failed: true, Paused: true);
            }

            await store.ClearAsync(cancellationToken);
            _current = null;
            logger.LogInformation("Deliveries resumed by {Operator} (paused since {Since} by {PausedBy})", who, state.Since, state.By);
            return new PauseOutcome(null, done, Failed: false, Paused: false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// At start: if the shared switch is on, says so in the log and applies again the parts it holds, in case a
    /// subscription or queue came back flowing (an emulator that restarted, a deployment that rewrote the subscription).
    /// Should the switch be resumed elsewhere meanwhile, what was held again here is given back.
    /// </summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken = default)
    {
        var state = await ReadAsync(cancellationToken);
        if (state is null)
        {
            return;
        }

        logger.LogInformation(
            "Deliveries are paused since {Since} by {Operator} (pushes {Pushes}, reminders {Reminders}); resume on /ops/",
            state.Since, state.By, state.Pushes?.State, state.Reminders?.State);
        var detached = false;
        if (state.Pushes is { Held: true } && subscription.Name is not null && state.SavedPushConfig is not null)
        {
            try
            {
                if ((await subscription.GetAsync(cancellationToken)).PushConfig is { PushEndpoint.Length: > 0 } config)
                {
                    await subscription.ModifyPushConfigAsync(new PushConfig(), cancellationToken);
                    detached = true;
                    logger.LogWarning("Subscription {Subscription} pushed to {Endpoint} while paused: detached it again", subscription.Name, config.PushEndpoint);
                }
            }
            catch (PubSubException exception)
            {
                logger.LogWarning("Could not check that subscription {Subscription} is still detached: {Reason}", subscription.Name, exception.Message);
            }
        }

        var paused = false;
        if (state.Reminders is { Held: true })
        {
            try
            {
                if (await queue.GetStateAsync(cancellationToken) == QueueState.Running)
                {
                    await queue.PauseAsync(cancellationToken);
                    paused = true;
                    logger.LogWarning("Queue {Queue} was running while paused: paused it again", Queue);
                }
            }
            catch (CloudTasksException exception)
            {
                logger.LogWarning("Could not check that queue {Queue} is still paused: {Reason}", Queue, exception.Message);
            }
        }

        if (detached || paused)
        {
            await GiveBackIfResumedAsync(state, detached, paused, cancellationToken);
        }
    }

    // A part found flowing at start may have been given back by a resume on another instance after this one read the
    // switch. Held again with no switch on record, it would wait for a resume that has nothing left to resume.
    private async Task GiveBackIfResumedAsync(PauseState heldFor, bool detached, bool paused, CancellationToken cancellationToken)
    {
        var now = await ReadAsync(cancellationToken);
        if (now is not null && now.Since == heldFor.Since)
        {
            return;
        }

        // As a resume gives them back; each part says what it did or why it could not.
        var done = new List<string>();
        if (detached && now?.Pushes is not { Held: true })
        {
            await ReleasePushesAsync(heldFor, done, cancellationToken);
        }

        if (paused && now?.Reminders is not { Held: true })
        {
            await ReleaseRemindersAsync(heldFor, done, cancellationToken);
        }

        if (done.Count > 0)
        {
            logger.LogWarning("Deliveries were resumed while this instance started; it gave back what it had held again: {Done}", string.Join("; ", done));
        }
    }

    /// <summary>What the subscription and the queue are doing right now, as Google reports it (for the page and checks).</summary>
    public async Task<PauseObserved> ObserveAsync(CancellationToken cancellationToken = default)
    {
        async Task<(string? Endpoint, string? Error)> Pushes()
        {
            if (subscription.Name is null)
            {
                return (null, "no subscription configured");
            }

            try
            {
                return ((await subscription.GetAsync(cancellationToken)).PushConfig?.PushEndpoint ?? "", null);
            }
            catch (PubSubException exception)
            {
                return (null, exception.Message);
            }
        }

        async Task<(string? State, string? Error)> Reminders()
        {
            try
            {
                return ((await queue.GetStateAsync(cancellationToken)).ToString().ToUpperInvariant(), null);
            }
            catch (CloudTasksException exception)
            {
                return (null, exception.Message);
            }
        }

        var pushes = Pushes();
        var reminders = Reminders();
        var (endpoint, pushError) = await pushes;
        var (queueState, queueError) = await reminders;
        return new PauseObserved(endpoint, endpoint is null ? null : endpoint.Length > 0, pushError, queueState, queueError);
    }

    private async Task<PauseState> HoldPushesAsync(PauseState state, List<string> done, CancellationToken cancellationToken)
    {
        if (subscription.Name is not { } name)
        {
            return state with
            {
                Pushes = Part(PausePart.NotConfigured, $"no subscription is configured ({PubSubOptions.Section}:Subscription): pushes are not held", held: false),
            };
        }

        var detaching = false;
        try
        {
            if (state.SavedPushConfig is null)
            {
                var config = (await subscription.GetAsync(cancellationToken)).PushConfig;
                if (config is not { PushEndpoint.Length: > 0 })
                {
                    // Not pushing now: either never was, or another instance detached it a moment ago and saved its config.
                    var again = await store.GetAsync(cancellationToken);
                    if (again?.SavedPushConfig is null)
                    {
                        return state with
                        {
                            Pushes = Part(PausePart.NotPushing, $"{name} had no push endpoint: nothing to detach, and resume leaves it as it is", held: false),
                        };
                    }

                    state = state with { SavedPushConfig = again.SavedPushConfig };
                }
                else
                {
                    state = state with { SavedPushConfig = await store.KeepPushConfigAsync(JsonFormatter.Default.Format(config), cancellationToken) };
                }
            }

            detaching = true;
            await subscription.ModifyPushConfigAsync(new PushConfig(), cancellationToken);
            var endpoint = Parser.Parse<PushConfig>(state.SavedPushConfig).PushEndpoint;
            done.Add($"detached the push endpoint of {name}: messages wait in the subscription (resume pushes them to {endpoint})");
            return state with { Pushes = Part(PausePart.Detached, $"messages wait in {name}; resume restores pushing to {endpoint}", held: true) };
        }
        catch (PubSubException exception)
        {
            // A detach that got no answer may have happened: resume puts the config back either way.
            var role = MissingPubSubRole(exception, state);
            done.Add($"pushes not held: {exception.Message}{Grant(role)}");
            var mayBeDetached = detaching && exception.StatusCode is null;
            return state with { Pushes = Failure(exception.Message, role, held: mayBeDetached || state.Pushes?.Held == true) };
        }
    }

    private async Task<PauseState> HoldRemindersAsync(PauseState state, List<string> done, CancellationToken cancellationToken)
    {
        var pausing = false;
        try
        {
            // A queue someone paused before the switch is theirs: it stays paused on resume. One the switch paused, or
            // one a failed attempt may have paused without hearing back, is the switch's.
            if (state.Reminders is null or { State: PausePart.AlreadyPaused }
                && await queue.GetStateAsync(cancellationToken) == QueueState.Paused)
            {
                return state with { Reminders = Part(PausePart.AlreadyPaused, $"{Queue} was paused before: resume leaves it paused", held: false) };
            }

            pausing = true;
            await queue.PauseAsync(cancellationToken);
            done.Add($"paused queue {Queue}: reminder tasks wait in the queue");
            return state with { Reminders = Part(PausePart.Paused, $"reminder tasks wait in {Queue}; resume dispatches those that came due", held: true) };
        }
        catch (CloudTasksException exception)
        {
            // A pause that got no answer may have happened: resume resumes the queue either way.
            var role = MissingTasksRole(exception);
            done.Add($"reminders not held: {exception.Message}{Grant(role)}");
            var mayBePaused = pausing && exception.StatusCode is null;
            return state with { Reminders = Failure(exception.Message, role, held: mayBePaused || state.Reminders?.Held == true) };
        }
    }

    private async Task<PauseState> ReleaseRemindersAsync(PauseState state, List<string> done, CancellationToken cancellationToken)
    {
        if (state.Reminders is not { Held: true })
        {
            if (state.Reminders?.State == PausePart.AlreadyPaused)
            {
                done.Add($"left queue {Queue} paused: it was paused before the switch");
            }

            return state;
        }

        try
        {
            await queue.ResumeAsync(cancellationToken);
            done.Add($"resumed queue {Queue}: reminders that came due are dispatched");
            return state with { Reminders = Part(PausePart.Running, $"{Queue} dispatches", held: false) };
        }
        catch (CloudTasksException exception)
        {
            var role = MissingTasksRole(exception);
            done.Add($"reminders still held: {exception.Message}{Grant(role)}");
            return state with { Reminders = Failure(exception.Message, role, held: true) };
        }
    }

    private async Task<PauseState> ReleasePushesAsync(PauseState state, List<string> done, CancellationToken cancellationToken)
    {
        // Also when the pause never recorded what became of pushes: it stopped (a store failure, say) after saving the
        // config and perhaps after detaching, and the subscription must not stay detached for good. Putting back a
        // config that is still in place changes nothing.
        if (state.SavedPushConfig is null || subscription.Name is not { } name || state.Pushes is { Held: false })
        {
            return state;
        }

        var saved = Parser.Parse<PushConfig>(state.SavedPushConfig);
        try
        {
            await subscription.ModifyPushConfigAsync(saved, cancellationToken);
            done.Add($"restored the push config of {name}: pushing to {saved.PushEndpoint} again{(saved.OidcToken is { } oidc ? $" with OIDC tokens as {oidc.ServiceAccountEmail}" : "")}");
            return state with { Pushes = Part(PausePart.Pushing, $"{name} pushes to {saved.PushEndpoint}", held: false) };
        }
        catch (PubSubException exception)
        {
            var role = MissingPubSubRole(exception, state);
            done.Add($"pushes still held: {exception.Message}{Grant(role)}");
            return state with { Pushes = Failure(exception.Message, role, held: true) };
        }
    }

    private static string Grant(string? role) => role is null ? "" : $" (the service account lacks {role}; deploy/gcp.sh grants it)";

    private PausePart Part(string partState, string detail, bool held) => new(partState, detail, null, held, time.GetUtcNow());

    private PausePart Failure(string detail, string? missingRole, bool held) => new(PausePart.Failed, detail, missingRole, held, time.GetUtcNow());

    /// <summary>
    /// The grant that ends a 403. Setting a push config with an OIDC token also needs actAs on the token's account,
    /// and Google's message then names <c>iam.serviceAccounts.actAs</c>.
    /// </summary>
    private string? MissingPubSubRole(PubSubException exception, PauseState state)
    {
        if (exception.StatusCode != HttpStatusCode.Forbidden)
        {
            return null;
        }

        if (exception.Message.Contains("actAs", StringComparison.OrdinalIgnoreCase) && state.SavedPushConfig is not null
            && Parser.Parse<PushConfig>(state.SavedPushConfig).OidcToken is { ServiceAccountEmail.Length: > 0 } oidc)
        {
            return $"{PushSubscription.ActAsRole} on service account {oidc.ServiceAccountEmail} (iam.serviceAccounts.actAs)";
        }

        return $"{PushSubscription.PauseRole} on subscription {subscription.Name} (pubsub.subscriptions.get, pubsub.subscriptions.update)";
    }

    private string? MissingTasksRole(CloudTasksException exception) =>
        exception.StatusCode == HttpStatusCode.Forbidden
            ? $"{CloudTasksQueue.PauseRole} on queue {Queue} (cloudtasks.queues.get, cloudtasks.queues.pause, cloudtasks.queues.resume)"
            : null;
}

/// <summary>The subscription's push endpoint ("" when detached) and the queue's state, read from Google just now.</summary>
public sealed record PauseObserved(string? PushEndpoint, bool? Pushing, string? PushesError, string? QueueState, string? QueueError);
