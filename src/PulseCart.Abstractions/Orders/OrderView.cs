using PulseCart.Abstractions.Events;

namespace PulseCart.Abstractions.Orders;

[GenerateSerializer, Immutable]
public sealed record OrderView(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string? UserId,
    [property: Id(2)] string? CartId,
    [property: Id(3)] DateTimeOffset? PlacedAt,
    [property: Id(4)] decimal? Total,
    [property: Id(5)] string? Currency,
    [property: Id(6)] int PaymentFailures,
    [property: Id(7)] DateTimeOffset? LastPaymentFailureAt,
    [property: Id(8)] IReadOnlyList<SentMessageView> Messages,
    [property: Id(9)] int RememberedEventIds);
