using Microsoft.AspNetCore.Http.HttpResults;
using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Orders;
using PulseCart.Consumer.Events;
using PulseCart.Consumer.PubSub;
using PulseCart.Consumer.Quarantine;
using PulseCart.Consumer.Reminders;
using PulseCart.Consumer.Telemetry;
using PulseCart.Google.CloudTasks;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.Ops;

public sealed record OpsSummary(IReadOnlyDictionary<string, int> RecentByOutcome, IReadOnlyList<RecentEvent> RecentEvents, IReadOnlyList<RecentMessage> RecentMessages);

public sealed record ReplayResult(string Id, string Outcome, string? Reason);

/// <summary>Read-only JSON for operators. Everything hangs off one route group so it is protected in one place.</summary>
public static class OpsEndpoints
{
    /// <summary>
    /// Everything operators see — <c>/ops</c> (page and JSON), <c>/dashboard</c>, <c>/metrics</c> — in one route group,
    /// so the operator policy is enforced in exactly one place.
    /// </summary>
    public static RouteGroupBuilder MapOperatorEndpoints(this WebApplication app)
    {
        var operators = app.MapGroup("").RequireAuthorization(SecurityPolicies.Operators);
        var ops = operators.MapGroup("/ops");
        ops.MapGet("/", OperatorPage.Get);
        ops.MapGet("/summary", GetSummary);
        ops.MapGet("/reminders", ListRemindersAsync);
        ops.MapGet("/carts/{cartId}", GetCartAsync);
        ops.MapGet("/orders/{orderId}", GetOrderAsync);
        ops.MapGet("/quarantine", ListQuarantineAsync);
        ops.MapGet("/quarantine/{id}/body", GetQuarantinedBodyAsync);
        ops.MapPost("/quarantine/{id}/replay", ReplayAsync).DisableAntiforgery();
        operators.MapPrometheusScrapingEndpoint("/metrics");
        operators.MapPulseCartDashboard(app.Configuration);
        return operators;
    }

    public static Ok<OpsSummary> GetSummary(RecentActivity recent)
    {
        var events = recent.Events();
        var byOutcome = events.GroupBy(e => e.Outcome).ToDictionary(group => group.Key, group => group.Count());
        return TypedResults.Ok(new OpsSummary(byOutcome, events.Take(50).ToList(), recent.Messages().Take(50).ToList()));
    }

    public static async Task<Results<Ok<IReadOnlyList<PendingReminder>>, ProblemHttpResult>> ListRemindersAsync(
        CloudTasksQueue queue, CancellationToken cancellationToken, int limit = 200)
    {
        try
        {
            return TypedResults.Ok(await queue.ListPendingAsync(Math.Clamp(limit, 1, 1_000), cancellationToken));
        }
        catch (Exception exception) when (exception is CloudTasksException or HttpRequestException)
        {
            return TypedResults.Problem($"could not list reminder tasks: {exception.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>
    /// Sends a quarantined delivery through the same routing and dedup again, once its cause is fixed. A delivery
    /// that is still unusable answers 422 with the reason; a transient failure 503; either way nothing is marked.
    /// </summary>
    public static async Task<Results<Ok<ReplayResult>, NotFound, UnprocessableEntity<ReplayResult>, ProblemHttpResult>> ReplayAsync(
        string id,
        IQuarantine quarantine,
        PushHandler pushes,
        ReminderCallbackHandler reminders,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (await quarantine.GetAsync(id, cancellationToken) is not { } entry)
        {
            return TypedResults.NotFound();
        }

        try
        {
            var (outcome, reason) = entry.Source == "task"
                ? (await reminders.ReplayAsync(entry.Body, cancellationToken), null)
                : await ReplayPushAsync(pushes, entry, cancellationToken);
            if (reason is not null)
            {
                return TypedResults.UnprocessableEntity(new ReplayResult(id, outcome, reason));
            }

            await quarantine.MarkReplayedAsync(id, time.GetUtcNow(), outcome, cancellationToken);
            return TypedResults.Ok(new ReplayResult(id, outcome, null));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return TypedResults.Problem($"replay failed, try again: {exception.GetType().Name}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static async Task<(string Outcome, string? Reason)> ReplayPushAsync(PushHandler pushes, QuarantineEntry entry, CancellationToken cancellationToken)
    {
        var result = await pushes.ReplayAsync(entry.Body, cancellationToken);
        return (result.Outcome.ToString().ToLowerInvariant(), result.Reason);
    }

    public static async Task<Results<Ok<CartView>, NotFound, BadRequest<string>>> GetCartAsync(string cartId, IGrainFactory grains)
    {
        if (!EventParser.IsUsableId(cartId))
        {
            return TypedResults.BadRequest("cart id must be 1-200 printable characters without surrounding spaces");
        }

        var cart = await grains.GetGrain<ICartGrain>(cartId).GetAsync();
        return cart is null ? TypedResults.NotFound() : TypedResults.Ok(cart);
    }

    public static async Task<Results<Ok<OrderView>, NotFound, BadRequest<string>>> GetOrderAsync(string orderId, IGrainFactory grains)
    {
        if (!EventParser.IsUsableId(orderId))
        {
            return TypedResults.BadRequest("order id must be 1-200 printable characters without surrounding spaces");
        }

        var order = await grains.GetGrain<IOrderGrain>(orderId).GetAsync();
        return order is null ? TypedResults.NotFound() : TypedResults.Ok(order);
    }

    /// <summary>One page of the quarantine, newest first; bodies are cut to a preview (each has its own URL).</summary>
    public static async Task<Ok<QuarantinePage>> ListQuarantineAsync(
        IQuarantine quarantine, CancellationToken cancellationToken, int offset = 0, int limit = 100)
    {
        offset = Math.Max(offset, 0);
        limit = Math.Clamp(limit, 1, 1_000);
        var entries = await quarantine.ListAsync(offset, limit, cancellationToken);
        var stats = quarantine.Stats() ?? new QuarantineStats(0, 0, 0);
        return TypedResults.Ok(new QuarantinePage(
            entries.Select(entry => entry.ToListing()).ToList(), offset, entries.Count == limit ? offset + limit : null, stats));
    }

    /// <summary>A quarantined body exactly as received: text when it is UTF-8, otherwise bytes.</summary>
    public static async Task<Results<FileContentHttpResult, NotFound>> GetQuarantinedBodyAsync(
        string id, IQuarantine quarantine, CancellationToken cancellationToken)
    {
        if (await quarantine.GetAsync(id, cancellationToken) is not { } entry)
        {
            return TypedResults.NotFound();
        }

        var contentType = System.Text.Unicode.Utf8.IsValid(entry.Body.Span) ? "text/plain; charset=utf-8" : "application/octet-stream";
        return TypedResults.File(entry.Body.ToArray(), contentType);
    }
}
