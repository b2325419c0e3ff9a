using PulseCart.Abstractions.Carts;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Carts;

/// <summary>
/// Persisted cart state. Stored as <see cref="WriteRecord"/>'s record plus its key sets; the <c>[Id]</c>s describe the
/// format earlier versions stored (still read): never renumber one or rename the type.
/// </summary>
[GenerateSerializer]
public sealed class CartState : IStoredState
{
    private const byte RecordFormat = 2;

    [Id(0)]
    public string? UserId { get; set; }

    /// <summary><c>occurred_at</c> of the newest <c>cart.updated</c>.</summary>
    [Id(1)]
    public DateTimeOffset? LastActivityAt { get; set; }

    /// <summary><c>occurred_at</c> of the newest <c>cart.abandoned</c> that was acted on.</summary>
    [Id(2)]
    public DateTimeOffset? AbandonedAt { get; set; }

    /// <summary><c>occurred_at</c> of the newest <c>order.placed</c> for this cart.</summary>
    [Id(3)]
    public DateTimeOffset? PurchasedAt { get; set; }

    [Id(4)]
    public string? PurchaseOrderId { get; set; }

    [Id(5)]
    public CartReminder? Reminder { get; set; }

    [Id(6)]
    public ProcessedEventIds Events { get; set; } = new();

    [Id(7)]
    public SentMessageLog Messages { get; set; } = new();

    /// <summary>
    /// The event id of the newest <c>cart.updated</c>, so that a redelivery of it is told a duplicate. Stored in the
    /// record since format 2; state Orleans' provider wrote never has it (its <c>[Id]</c> only keeps Orleans' serializer
    /// complete).
    /// </summary>
    [Id(8)]
    public string? LastActivityEventId { get; set; }

    /// <summary>
    /// The status told by the newest event, judged by <c>occurred_at</c> rather than arrival order.
    /// On a tie a purchase wins over activity, and activity over abandonment: no reminder on doubt.
    /// </summary>
    public CartStatus Status
    {
        get
        {
            var newest = Max(Max(PurchasedAt, LastActivityAt), AbandonedAt);
            if (newest is null)
            {
                return CartStatus.Unknown;
            }

            if (PurchasedAt == newest)
            {
                return CartStatus.Purchased;
            }

            return LastActivityAt == newest ? CartStatus.Active : CartStatus.Abandoned;
        }
    }

    /// <summary>True when nothing known about the cart happened at or after <paramref name="occurredAt"/>.</summary>
    public bool IsNewerThanEverythingKnown(DateTimeOffset occurredAt) =>
        !(occurredAt <= PurchasedAt || occurredAt <= LastActivityAt || occurredAt <= AbandonedAt);

    [NonSerialized]
    private IStoredKeySet[]? _keySets;

    IReadOnlyList<IStoredKeySet> IStoredState.KeySets => KeySetCache.Of(ref _keySets, Events, Messages);

    // Format 2, in this order (format 1 ended before LastActivityEventId). A new field goes at the end, under a new
    // format number; an older reader stops before what it does not know.
    public void WriteRecord(RecordWriter writer)
    {
        writer.Byte(RecordFormat);
        writer.String(UserId);
        writer.Time(LastActivityAt);
        writer.Time(AbandonedAt);
        writer.Time(PurchasedAt);
        writer.String(PurchaseOrderId);
        writer.Byte(Reminder is null ? (byte)0 : (byte)1);
        Reminder?.Write(writer);
        writer.String(LastActivityEventId);
    }

    public void ReadRecord(ref RecordReader reader)
    {
        var format = reader.Byte();
        UserId = reader.String();
        LastActivityAt = reader.Time();
        AbandonedAt = reader.Time();
        PurchasedAt = reader.Time();
        PurchaseOrderId = reader.String();
        Reminder = reader.Byte() == 0 ? null : CartReminder.Read(ref reader);
        LastActivityEventId = format >= 2 ? reader.String() : null;
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;
}

[GenerateSerializer]
public sealed class CartReminder
{
    [Id(0)]
    public string ReminderId { get; set; } = "";

    [Id(1)]
    public string TaskName { get; set; } = "";

    [Id(2)]
    public string AbandonEventId { get; set; } = "";

    [Id(3)]
    public DateTimeOffset AbandonedAt { get; set; }

    [Id(4)]
    public DateTimeOffset DueAt { get; set; }

    [Id(5)]
    public ReminderStatus Status { get; set; }

    [Id(6)]
    public string? Reason { get; set; }

    [Id(7)]
    public DateTimeOffset? SettledAt { get; set; }

    [Id(8)]
    public decimal? Total { get; set; }

    [Id(9)]
    public string? Currency { get; set; }

    public ReminderView ToView() => new(ReminderId, TaskName, AbandonEventId, DueAt, Status, Reason, SettledAt);

    public void Write(RecordWriter writer)
    {
        writer.String(ReminderId);
        writer.String(TaskName);
        writer.String(AbandonEventId);
        writer.Time(AbandonedAt);
        writer.Time(DueAt);
        writer.Int((int)Status);
        writer.String(Reason);
        writer.Time(SettledAt);
        writer.Decimal(Total);
        writer.String(Currency);
    }

    public static CartReminder Read(ref RecordReader reader) => new()
    {
        ReminderId = reader.String() ?? "",
        TaskName = reader.String() ?? "",
        AbandonEventId = reader.String() ?? "",
        AbandonedAt = reader.Time()!.Value,
        DueAt = reader.Time()!.Value,
        Status = (ReminderStatus)reader.Int(),
        Reason = reader.String(),
        SettledAt = reader.Time(),
        Total = reader.Decimal(),
        Currency = reader.String(),
    };
}
