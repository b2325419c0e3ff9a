using Microsoft.AspNetCore.Http.HttpResults;
using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Orders;
using PulseCart.Consumer.Quarantine;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.Ops;

/// <summary>Read-only JSON for operators. Everything hangs off one route group so it is protected in one place.</summary>
public static class OpsEndpoints
{
    public const int MaxIdLength = 200;

    public static RouteGroupBuilder MapOpsEndpoints(this IEndpointRouteBuilder app)
    {
        var ops = app.MapGroup("/ops").RequireAuthorization(SecurityPolicies.Operators);
        ops.MapGet("/carts/{cartId}", GetCartAsync);
        ops.MapGet("/orders/{orderId}", GetOrderAsync);
        ops.MapGet("/quarantine", ListQuarantineAsync);
        return ops;
    }

    public static async Task<Results<Ok<CartView>, NotFound, BadRequest<string>>> GetCartAsync(string cartId, IGrainFactory grains)
    {
        if (!IsUsableId(cartId))
        {
            return TypedResults.BadRequest("cart id must be 1-200 printable characters");
        }

        var cart = await grains.GetGrain<ICartGrain>(cartId).GetAsync();
        return cart is null ? TypedResults.NotFound() : TypedResults.Ok(cart);
    }

    public static async Task<Results<Ok<OrderView>, NotFound, BadRequest<string>>> GetOrderAsync(string orderId, IGrainFactory grains)
    {
        if (!IsUsableId(orderId))
        {
            return TypedResults.BadRequest("order id must be 1-200 printable characters");
        }

        var order = await grains.GetGrain<IOrderGrain>(orderId).GetAsync();
        return order is null ? TypedResults.NotFound() : TypedResults.Ok(order);
    }

    public static async Task<Ok<IReadOnlyList<QuarantineEntry>>> ListQuarantineAsync(
        IQuarantine quarantine, CancellationToken cancellationToken, int limit = 100) =>
        TypedResults.Ok(await quarantine.ListAsync(Math.Clamp(limit, 1, 1_000), cancellationToken));

    // Never activate a grain for an id no event could have produced.
    private static bool IsUsableId(string id) =>
        id.Length is > 0 and <= MaxIdLength && !id.Any(char.IsControl);
}
