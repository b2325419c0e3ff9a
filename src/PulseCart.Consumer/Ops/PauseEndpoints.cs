using Microsoft.AspNetCore.Http.HttpResults;
using PulseCart.Consumer.Audit;
using PulseCart.Consumer.Pause;

namespace PulseCart.Consumer.Ops;

/// <summary>
/// The pause switch as operators see it: on or off, since when and by whom, each part (pushes, reminders) with what it
/// means and the role the service account lacks where Google refused; <see cref="Done"/> lists what an action did, and
/// <see cref="Observed"/> what Google reports right now.
/// </summary>
public sealed record PauseView(
    bool Paused,
    DateTimeOffset? Since,
    string? By,
    string? Subscription,
    string Queue,
    PausePart? Pushes,
    PausePart? Reminders,
    string? SavedPushConfig,
    IReadOnlyList<string> MissingRoles,
    string Note,
    IReadOnlyList<string>? Done = null,
    PauseObserved? Observed = null);

/// <summary><c>GET /ops/pause</c>, <c>POST /ops/pause</c>, <c>POST /ops/resume</c>: each action audited, each answer says what it did.</summary>
public static class PauseEndpoints
{
    public const string Note =
        "While paused the subscription pushes nothing and the reminder queue dispatches nothing: messages wait in the " +
        "subscription (within its message retention) and tasks in the queue, no delivery attempt is counted and nothing " +
        "reaches a dead-letter topic. Readiness is not affected. Resume delivers what waited.";

    public static RouteGroupBuilder MapPauseEndpoints(this RouteGroupBuilder ops)
    {
        ops.MapGet("/pause", GetAsync);
        var actions = ops.MapGroup("").DisableAntiforgery().AddEndpointFilter(QuarantineEndpoints.SameOriginOnly);
        actions.MapPost("/pause", PauseAsync);
        actions.MapPost("/resume", ResumeAsync);
        return ops;
    }

    /// <summary>The shared switch and, unless <c>live=false</c>, what the subscription and the queue are doing now.</summary>
    public static async Task<Ok<PauseView>> GetAsync(PauseSwitch pause, CancellationToken cancellationToken, bool live = true)
    {
        var state = await pause.ReadAsync(cancellationToken);
        var observed = live ? await pause.ObserveAsync(cancellationToken) : null;
        return TypedResults.Ok(View(pause, state, state is not null) with { Observed = observed });
    }

    /// <summary>
    /// Detaches the push endpoint (after saving the push config) and pauses the reminder queue. 200 when every part is
    /// held (or had nothing to hold), 502 when Google refused a part: the answer names it and the missing role.
    /// </summary>
    public static async Task<Results<Ok<PauseView>, JsonHttpResult<PauseView>>> PauseAsync(PauseSwitch pause, OperatorAudit audit, HttpContext http)
    {
        var who = OperatorAudit.Who(http.User);

        // Not cancelled with the request: a part done must be recorded as done.
        var outcome = await audit.RecordIfFailedAsync(who, "pause", Target(pause), ReadTheSwitch, () => pause.PauseAsync(who, CancellationToken.None));
        var result = outcome switch
        {
            { Paused: false } => $"refused, nothing held: {Describe(outcome.State)}",
            { Failed: true } => $"incomplete: {Describe(outcome.State)}",
            _ => $"paused: {Describe(outcome.State)}",
        };
        await audit.RecordAsync(who, "pause", Target(pause), result);
        return Answer(pause, outcome);
    }

    /// <summary>
    /// Resumes the queue and restores the saved push config. 200 when everything flows again (or nothing was paused),
    /// 502 when Google refused a part: it stays held, the switch stays on, and resuming again finishes it.
    /// </summary>
    public static async Task<Results<Ok<PauseView>, JsonHttpResult<PauseView>>> ResumeAsync(PauseSwitch pause, OperatorAudit audit, HttpContext http)
    {
        var who = OperatorAudit.Who(http.User);
        var outcome = await audit.RecordIfFailedAsync(who, "resume", Target(pause), ReadTheSwitch, () => pause.ResumeAsync(who, CancellationToken.None));
        var result = outcome switch
        {
            { State: null, Done: [var only] } when only.StartsWith("not paused", StringComparison.Ordinal) => only,
            { Failed: true } => $"incomplete, still paused: {Describe(outcome.State)}",
            _ => $"resumed: {string.Join("; ", outcome.Done)}",
        };
        await audit.RecordAsync(who, "resume", Target(pause), result);
        return Answer(pause, outcome);
    }

    // An action that failed part-way may already have changed the subscription or the queue: the audit says so.
    private const string ReadTheSwitch = "read the switch before acting again";

    private static Results<Ok<PauseView>, JsonHttpResult<PauseView>> Answer(PauseSwitch pause, PauseOutcome outcome)
    {
        var view = View(pause, outcome.State, outcome.Paused) with { Done = outcome.Done };
        return outcome.Failed ? TypedResults.Json(view, statusCode: StatusCodes.Status502BadGateway) : TypedResults.Ok(view);
    }

    private static PauseView View(PauseSwitch pause, PauseState? state, bool paused) => new(
        paused,
        state?.Since,
        state?.By,
        pause.Subscription,
        pause.Queue,
        state?.Pushes,
        state?.Reminders,
        state?.SavedPushConfig,
        new[] { state?.Pushes?.MissingRole, state?.Reminders?.MissingRole }.OfType<string>().ToList(),
        Note);

    private static string Target(PauseSwitch pause) => $"subscription {pause.Subscription ?? "(none configured)"}, queue {pause.Queue}";

    private static string Describe(PauseState? state) =>
        state is null ? "not paused" : $"pushes {Part(state.Pushes)}; reminders {Part(state.Reminders)}";

    private static string Part(PausePart? part) => part switch
    {
        null => "untouched",
        { MissingRole: { } role } => $"{part.State} (missing {role}): {part.Detail}",
        { State: PausePart.Failed } => $"{part.State}: {part.Detail}",
        _ => part.State,
    };
}
