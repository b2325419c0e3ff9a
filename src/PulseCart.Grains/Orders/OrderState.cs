using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Orders;

/// <summary>
/// Persisted order state. Stored as <see cref="WriteRecord"/>'s record plus its key sets; the <c>[Id]</c>s describe the
/// format earlier versions stored (still read): never renumber one or rename the type.
/// </summary>
[GenerateSerializer]
public sealed class OrderState : IStoredState
{
    private const byte RecordFormat = 1;

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

    [NonSerialized]
    private IStoredKeySet[]? _keySets;

    // Built once per activation; rebuilt if deserialisation replaced either set.
    IReadOnlyList<IStoredKeySet> IStoredState.KeySets =>
        _keySets is { } sets && ReferenceEquals(sets[0], Events) && ReferenceEquals(sets[1], Messages) ? sets : _keySets = [Events, Messages];

    // Format 1, in this order. A new field goes at the end, under a new format number.
    public void WriteRecord(RecordWriter writer)
    {
        writer.Byte(RecordFormat);
        writer.String(UserId);
        writer.String(CartId);
        writer.Time(PlacedAt);
        writer.Decimal(Total);
        writer.String(Currency);
        writer.Int(PaymentFailures);
        writer.Time(LastPaymentFailureAt);
    }

    public void ReadRecord(ref RecordReader reader)
    {
        reader.Byte();
        UserId = reader.String();
        CartId = reader.String();
        PlacedAt = reader.Time();
        Total = reader.Decimal();
        Currency = reader.String();
        PaymentFailures = reader.Int();
        LastPaymentFailureAt = reader.Time();
    }
}
