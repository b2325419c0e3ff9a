using Microsoft.AspNetCore.Http.HttpResults;
using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Orders;
using PulseCart.Consumer.Audit;
using PulseCart.Consumer.Charts;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.Events;
using PulseCart.Consumer.Telemetry;
using PulseCart.Google.CloudTasks;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.Ops;

public sealed record OpsSummary(IReadOnlyDictionary<string, int> RecentByOutcome, IReadOnlyList<RecentEvent> RecentEvents, IReadOnlyList<RecentMessage> RecentMessages);

/// <summary>JSON and pictures for operators. Everything hangs off one route group so it is protected in one place.</summary>
public static class OpsEndpoints
{
    /// <summary>
    /// Everything operators see — <c>/ops</c> (page and JSON), <c>/dashboard</c>, <c>/metrics</c> — in one route group,
    /// so the operator policy is enforced in exactly one place.
    /// </summary>
    public static RouteGroupBuilder MapOperatorEndpoints(this WebApplication app)
    {
        var operators = app.MapGroup("").RequireAuthorization(SecurityPolicies.Operators);
        var ops = operators.MapGroup("/ops").AddEndpointFilter(UnavailableAs503);
        ops.MapGet("/", OperatorPage.Get);
        ops.MapGet("/summary", GetSummary);
        ops.MapGet("/reminders", ListRemindersAsync);
        ops.MapGet("/carts/{cartId}", GetCartAsync);
        ops.MapGet("/orders/{orderId}", GetOrderAsync);
        ops.MapGet("/audit", ListAuditAsync);
        ops.MapGet("/charts", GetCharts);
        ops.MapGet("/charts/{name}.svg", GetChart);
        ops.MapQuarantineEndpoints();
        ops.MapPauseEndpoints();
        operators.MapPrometheusScrapingEndpoint("/metrics");
        operators.MapPulseCartDashboard(app.Configuration);
        return operators;
    }

    /// <summary>
    /// A store, the cluster or Google unavailable is answered 503 naming the kind of failure (the details, which name
    /// hosts and keys, go to the log), instead of a bare 500: the operator learns that trying again later may work. An
    /// action that stopped part-way has recorded so in the audit. A request Kestrel could not read keeps its 4xx.
    /// </summary>
    private static async ValueTask<object?> UnavailableAs503(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context);
        }
        catch (Exception exception) when (exception is not BadHttpRequestException && TransientFailures.IsTransient(exception) && !http.RequestAborted.IsCancellationRequested)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OpsEndpoints))
                .LogWarning(exception, "{Method} {Path}: a dependency was unavailable", http.Request.Method, http.Request.Path);
            var partWay = HttpMethods.IsGet(http.Request.Method) ? "" : "; the action may have stopped part-way: see /ops/audit";
            return TypedResults.Problem(
                $"unavailable, try again later: {exception.GetType().Name}{partWay}",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
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

    /// <summary>What operators did, newest first: who, when, what, to what, and what came of it.</summary>
    public static async Task<Ok<AuditPage>> ListAuditAsync(IAuditLog audit, CancellationToken cancellationToken, int offset = 0, int limit = 100)
    {
        offset = Math.Max(offset, 0);
        limit = Math.Clamp(limit, 1, 1_000);
        var entries = await audit.ListAsync(offset, limit, cancellationToken);
        return TypedResults.Ok(new AuditPage(entries, offset, entries.Count == limit ? offset + limit : null));
    }

    /// <summary>The last hour of this process per minute: deliveries and reminders by outcome, quarantine size.</summary>
    public static Ok<ChartData> GetCharts(OpsCharts charts)
    {
        charts.SampleQuarantine();
        return TypedResults.Ok(charts.LastHour());
    }

    /// <summary>One chart as SVG: <c>deliveries</c>, <c>reminders</c> or <c>quarantine</c>.</summary>
    public static Results<ContentHttpResult, NotFound> GetChart(string name, OpsCharts charts)
    {
        charts.SampleQuarantine();
        var data = charts.LastHour();
        static IReadOnlyList<(string, IReadOnlyList<long?>)> Lines(IReadOnlyDictionary<string, long[]> series) =>
            series.Select(pair => (pair.Key, (IReadOnlyList<long?>)pair.Value.Select(v => (long?)v).ToArray())).ToList();
        var svg = name switch
        {
            "deliveries" => SvgChart.Render("chart-deliveries", "Deliveries per minute by outcome (this instance)", data.From, Lines(data.Deliveries)),
            "reminders" => SvgChart.Render("chart-reminders", "Reminders per minute (this instance)", data.From, Lines(data.Reminders)),
            "quarantine" => SvgChart.Render("chart-quarantine", "Quarantine size (entries kept)", data.From, [("entries", data.QuarantineSize)], gauge: true),
            _ => null,
        };
        return svg is null ? TypedResults.NotFound() : TypedResults.Content(svg, "image/svg+xml; charset=utf-8");
    }
}
