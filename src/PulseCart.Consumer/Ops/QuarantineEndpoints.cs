using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Audit;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.PubSub;
using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Ops;

/// <summary>What a single-entry replay (or edit and replay) did; <see cref="Reason"/> says why it is still unusable.</summary>
public sealed record ReplayResult(string Id, string Outcome, string? Reason, bool AlreadyReplayed = false, bool Edited = false);

/// <summary>
/// What a single-entry discard did: the entry stays, marked; <see cref="AlreadyDiscarded"/> when it was before;
/// <see cref="Reason"/> says why it was refused.
/// </summary>
public sealed record DiscardResult(string Id, bool Discarded, bool AlreadyDiscarded, DateTimeOffset? DiscardedAt, string? DiscardedBy, string? Reason = null);

/// <summary>
/// The quarantine for operators: listing (filtered, paged), groups by cause, bodies, and the actions — replay, discard,
/// edit and replay one entry; replay or discard a group or selection in the background. Every action answers with
/// what it did, is safe to repeat and goes into the audit list with who did it.
/// </summary>
public static class QuarantineEndpoints
{
    public static RouteGroupBuilder MapQuarantineEndpoints(this RouteGroupBuilder ops)
    {
        ops.MapGet("/quarantine", ListAsync);
        ops.MapGet("/quarantine/groups", GroupsAsync);
        ops.MapGet("/quarantine/{id}/body", GetBodyAsync);
        ops.MapGet("/quarantine/{id}/edited-body", GetEditedBodyAsync);
        ops.MapGet("/quarantine/jobs", ListJobs);
        ops.MapGet("/quarantine/jobs/{id}", GetJob);

        var actions = ops.MapGroup("/quarantine").DisableAntiforgery().AddEndpointFilter(SameOriginOnly);
        actions.MapPost("/{id}/replay", ReplayAsync);
        actions.MapPost("/{id}/discard", DiscardAsync);
        actions.MapPost("/{id}/edit", EditAsync);
        actions.MapPost("/replay", (QuarantineSelection selection, QuarantineJobs jobs, HttpContext http) => StartJob(QuarantineJobs.Replay, selection, jobs, http));
        actions.MapPost("/discard", (QuarantineSelection selection, QuarantineJobs jobs, HttpContext http) => StartJob(QuarantineJobs.Discard, selection, jobs, http));
        return ops;
    }

    /// <summary>One page of the quarantine, newest first, narrowed by any filter; bodies are cut to a preview (each has its own URL).</summary>
    public static async Task<Ok<QuarantinePage>> ListAsync(
        IQuarantine quarantine,
        TimeProvider time,
        CancellationToken cancellationToken,
        int offset = 0,
        int limit = 100,
        string? group = null,
        string? source = null,
        [FromQuery(Name = "event_type")] string? eventType = null,
        [FromQuery(Name = "event_id")] string? eventId = null,
        [FromQuery(Name = "cart_id")] string? cartId = null,
        [FromQuery(Name = "order_id")] string? orderId = null,
        string? state = null)
    {
        offset = Math.Max(offset, 0);
        limit = Math.Clamp(limit, 1, 1_000);
        var selection = new QuarantineSelection(group, source, eventType, eventId, cartId, orderId, state);
        var entries = await QuarantineQueries.ListAsync(quarantine, selection, offset, limit, time.GetUtcNow(), cancellationToken);
        var stats = quarantine.Stats() ?? new QuarantineStats(0, 0, 0);
        return TypedResults.Ok(new QuarantinePage(entries, offset, entries.Count == limit ? offset + limit : null, stats));
    }

    /// <summary>The quarantine by cause (reasons with ids, numbers and quoted values taken out), narrowed by any filter.</summary>
    public static async Task<Ok<QuarantineGroups>> GroupsAsync(
        IQuarantine quarantine,
        CancellationToken cancellationToken,
        string? source = null,
        [FromQuery(Name = "event_type")] string? eventType = null,
        [FromQuery(Name = "event_id")] string? eventId = null,
        [FromQuery(Name = "cart_id")] string? cartId = null,
        [FromQuery(Name = "order_id")] string? orderId = null,
        string? state = null) =>
        TypedResults.Ok(await QuarantineQueries.GroupAsync(
            quarantine, new QuarantineSelection(null, source, eventType, eventId, cartId, orderId, state), cancellationToken));

    /// <summary>A quarantined body exactly as received: text when it is UTF-8, otherwise bytes.</summary>
    public static async Task<Results<FileContentHttpResult, NotFound>> GetBodyAsync(string id, IQuarantine quarantine, CancellationToken cancellationToken) =>
        await quarantine.GetAsync(id, cancellationToken) is { } entry ? Body(entry.Body) : TypedResults.NotFound();

    /// <summary>The body an operator edited, kept beside the original; 404 when the entry has no edit.</summary>
    public static async Task<Results<FileContentHttpResult, NotFound>> GetEditedBodyAsync(string id, IQuarantine quarantine, CancellationToken cancellationToken) =>
        await quarantine.GetAsync(id, cancellationToken) is { EditedAt: not null } entry ? Body(entry.EditedBody) : TypedResults.NotFound();

    /// <summary>
    /// Sends a quarantined delivery (its edited body, if it has one) through the same routing and dedup again, once
    /// its cause is fixed. Still unusable: 422 with the reason; a transient failure: 503; either way nothing is marked.
    /// An entry replayed before answers with that outcome and sends nothing; a discarded one, or one whose replay is
    /// still running (here or on another silo), is refused (409).
    /// </summary>
    public static async Task<Results<Ok<ReplayResult>, NotFound, UnprocessableEntity<ReplayResult>, Conflict<ReplayResult>, ProblemHttpResult>> ReplayAsync(
        string id, QuarantineActions actions, OperatorAudit audit, HttpContext http, CancellationToken cancellationToken)
    {
        var who = OperatorAudit.Who(http.User);
        var attempt = await audit.RecordIfFailedAsync(who, "replay", EntryTarget(id), MayHaveActed, () => actions.ReplayAsync(id, who, cancellationToken));
        await audit.RecordAsync(who, "replay", EntryTarget(id), Describe(attempt));
        return Answer(id, attempt, edited: false);
    }

    /// <summary>
    /// Marks the entry discarded: it stays listed as such and is never replayed. Repeating it changes nothing; while a
    /// replay of it is running, it is refused (409), since that replay may still send it.
    /// </summary>
    public static async Task<Results<Ok<DiscardResult>, NotFound, Conflict<DiscardResult>>> DiscardAsync(
        string id, QuarantineActions actions, OperatorAudit audit, HttpContext http, CancellationToken cancellationToken)
    {
        var who = OperatorAudit.Who(http.User);
        var (entry, outcome) = await audit.RecordIfFailedAsync(who, "discard", EntryTarget(id), MayHaveActed, () => actions.DiscardAsync(id, who, cancellationToken));
        if (entry is null)
        {
            return TypedResults.NotFound();
        }

        var refusal = outcome.Verdict switch
        {
            EntryOutcome.Replaying => outcome.Reason,
            EntryOutcome.AlreadyReplayed => $"already replayed ({entry.ReplayOutcome})",
            _ => null,
        };
        var result = new DiscardResult(
            id, entry.DiscardedAt is not null, outcome.Verdict == EntryOutcome.AlreadyDiscarded, entry.DiscardedAt, entry.DiscardedBy, refusal);
        await audit.RecordAsync(who, "discard", EntryTarget(id), refusal is not null ? $"refused: {refusal}"
            : outcome.Verdict == EntryOutcome.AlreadyDiscarded ? "already discarded: nothing changed" : "discarded");
        return result.Discarded ? TypedResults.Ok(result) : TypedResults.Conflict(result);
    }

    /// <summary>
    /// Keeps the request body beside the original as the entry's edited body and replays it: answers like a replay.
    /// The edit stays even when the edited body is still unusable, so the next edit starts from it.
    /// </summary>
    public static async Task<Results<Ok<ReplayResult>, NotFound, UnprocessableEntity<ReplayResult>, Conflict<ReplayResult>, ProblemHttpResult>> EditAsync(
        string id, HttpContext http, QuarantineActions actions, OperatorAudit audit, IOptions<PushOptions> push, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(http.Request, push.Value.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return TypedResults.Problem($"an edited body must be 1 to {push.Value.MaxBodyBytes} bytes", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var who = OperatorAudit.Who(http.User);
        var attempt = await audit.RecordIfFailedAsync(who, "edit_replay", EntryTarget(id), MayHaveActed, () => actions.EditAndReplayAsync(id, body.Value, who, cancellationToken));
        if (attempt.Verdict is EntryOutcome.AlreadyReplayed or EntryOutcome.AlreadyDiscarded or EntryOutcome.Replaying)
        {
            var state = attempt.Verdict switch
            {
                EntryOutcome.AlreadyReplayed => QuarantineStates.Replayed,
                EntryOutcome.AlreadyDiscarded => QuarantineStates.Discarded,
                _ => "replaying",
            };
            var reason = attempt.Verdict == EntryOutcome.Replaying ? attempt.Reason! : $"the entry is {state}: nothing to edit";
            await audit.RecordAsync(who, "edit_replay", EntryTarget(id), $"refused: {reason}");
            return TypedResults.Conflict(new ReplayResult(id, state, reason, attempt.Verdict == EntryOutcome.AlreadyReplayed));
        }

        await audit.RecordAsync(who, "edit_replay", EntryTarget(id), attempt.Verdict == EntryOutcome.Gone ? "not found" : $"edited ({body.Value.Length} bytes), then {Describe(attempt)}");
        return Answer(id, attempt, edited: true);
    }

    public static Ok<IReadOnlyList<BulkJob>> ListJobs(QuarantineJobs jobs) => TypedResults.Ok(jobs.Recent());

    public static Results<Ok<BulkJob>, NotFound> GetJob(string id, QuarantineJobs jobs) =>
        jobs.Get(id) is { } job ? TypedResults.Ok(job) : TypedResults.NotFound();

    /// <summary>
    /// Starts a bulk replay or discard of the selection (a group, or filters) and answers 202 at once with the job to
    /// poll at <c>/ops/quarantine/jobs/{id}</c>. A selection that names nothing is refused: everything is never meant by
    /// accident. While a job runs in this instance another is refused (409, naming it).
    /// </summary>
    private static Results<Accepted<BulkJob>, ProblemHttpResult> StartJob(string action, QuarantineSelection selection, QuarantineJobs jobs, HttpContext http)
    {
        if (!selection.NamesSomething)
        {
            return TypedResults.Problem(
                "name a group or at least one filter (source, event_type, event_id, cart_id, order_id)", statusCode: StatusCodes.Status400BadRequest);
        }

        if (selection.HasOverlongField)
        {
            return TypedResults.Problem(
                $"a filter is at most {ShownText.MaxNameChars} characters: no entry keeps a longer value", statusCode: StatusCodes.Status400BadRequest);
        }

        var (job, started) = jobs.Start(action, selection, OperatorAudit.Who(http.User));
        return started
            ? TypedResults.Accepted($"/ops/quarantine/jobs/{job.Id}", job)
            : TypedResults.Problem(
                $"job {job.Id} ({job.Action} of {job.Selection}) is still running here: wait for it (/ops/quarantine/jobs/{job.Id})",
                statusCode: StatusCodes.Status409Conflict);
    }

    private static Results<Ok<ReplayResult>, NotFound, UnprocessableEntity<ReplayResult>, Conflict<ReplayResult>, ProblemHttpResult> Answer(
        string id, ReplayAttempt attempt, bool edited) => attempt.Verdict switch
        {
            EntryOutcome.Gone => TypedResults.NotFound(),
            EntryOutcome.Failed => TypedResults.Problem($"replay failed: {attempt.Reason}", statusCode: StatusCodes.Status503ServiceUnavailable),
            EntryOutcome.StillUnusable => TypedResults.UnprocessableEntity(new ReplayResult(id, attempt.Outcome, attempt.Reason, Edited: edited)),
            EntryOutcome.AlreadyDiscarded or EntryOutcome.Replaying => TypedResults.Conflict(new ReplayResult(id, attempt.Outcome, attempt.Reason, Edited: edited)),
            _ => TypedResults.Ok(new ReplayResult(id, attempt.Outcome, null, attempt.Verdict == EntryOutcome.AlreadyReplayed, edited)),
        };

    // Entry ids are 32 characters; whatever else a URL names, the audit keeps only its start.
    private static string EntryTarget(string id) => $"quarantine entry {ShownText.Cut(id, 64)}";

    // An action that failed part-way (storage gone after the message went out, say) may have sent or changed something.
    private const string MayHaveActed = "the entry may have been sent or changed";

    private static string Describe(ReplayAttempt attempt) => attempt.Verdict switch
    {
        EntryOutcome.AlreadyReplayed => $"already replayed ({attempt.Outcome}): nothing sent",
        EntryOutcome.AlreadyDiscarded => "refused: discarded",
        EntryOutcome.Replaying => $"refused: {attempt.Reason}",
        EntryOutcome.Gone => "not found",
        EntryOutcome.StillUnusable => $"still unusable: {attempt.Reason}",
        EntryOutcome.Failed => $"failed: {attempt.Reason}",
        _ => attempt.Outcome,
    };

    private static FileContentHttpResult Body(ReadOnlyMemory<byte> body) =>
        TypedResults.File(body.ToArray(), System.Text.Unicode.Utf8.IsValid(body.Span) ? "text/plain; charset=utf-8" : "application/octet-stream");

    /// <summary>The request body, or null when it is empty or larger than <paramref name="limit"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                return null;
            }
        }

        return buffer.Length == 0 ? null : new ReadOnlyMemory<byte>(buffer.ToArray());
    }

    /// <summary>
    /// Operators' browsers may hold basic credentials they send anywhere: a state-changing request that a page of
    /// another origin made is refused (403). Clients that send no <c>Origin</c> (curl, scripts) are not browsers' pages.
    /// </summary>
    internal static async ValueTask<object?> SameOriginOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0 && (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)))
        {
            return TypedResults.Problem($"operator actions are refused from another origin ({origin})", statusCode: StatusCodes.Status403Forbidden);
        }

        return await next(context);
    }
}
