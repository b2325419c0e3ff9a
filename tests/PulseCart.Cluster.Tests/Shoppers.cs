using PulseCart.Abstractions.Events;

namespace PulseCart.Cluster.Tests;

/// <summary>One shopper's cart: abandoned at T0, bought ten minutes later. Ids are unique per test run.</summary>
public sealed record Shopper(string CartId, string OrderId, string UserId)
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    public CartAbandoned Abandoned => new($"ab-{CartId}", T0, CartId, UserId, 59.97m, "EUR");

    public OrderPlaced Placed => new($"op-{OrderId}", T0.AddMinutes(10), OrderId, CartId, UserId, 59.97m, "EUR");

    public string ConfirmationKey => $"order_confirmation:{OrderId}";

    public static IReadOnlyList<Shopper> Many(int count)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        return Enumerable.Range(0, count).Select(i => new Shopper($"c-{run}-{i}", $"o-{run}-{i}", $"u-{run}-{i}")).ToList();
    }
}
