using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Orders;

/// <summary>Persisted order state. Redis stores the type name: never rename it or renumber an id.</summary>
[GenerateSerializer]
public sealed class OrderState
{
    [Id(0)]
    public string? UserId { get; set; }

    [Id(1)]
    public string? CartId { get; set; }

    [Id(2)]
    public DateTimeOffset? PlacedAt { get; set; }

    [Id(3)]
    public decimal? Total { get; set; }

    [Id(4)]
    public string? Currency { get; set; }

    [Id(5)]
    public int PaymentFailures { get; set; }

    [Id(6)]
    public DateTimeOffset? LastPaymentFailureAt { get; set; }

    [Id(7)]
    public ProcessedEventIds Events { get; set; } = new();

    [Id(8)]
    public SentMessageLog Messages { get; set; } = new();
}
