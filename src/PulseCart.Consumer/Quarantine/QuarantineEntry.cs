namespace PulseCart.Consumer.Quarantine;

/// <summary>
/// A delivery that can never be processed: acknowledged so Pub/Sub stops retrying, and kept here with
/// its reason and raw body so an operator can see it, fix the cause and replay it.
/// </summary>
public sealed record QuarantineEntry(
    string Id,
    DateTimeOffset ReceivedAt,
    string Source,
    string Reason,
    string? MessageId,
    string? Subscription,
    string? EventId,
    string? EventType,
    string RawBody,
    string RawBodyEncoding);

public interface IQuarantine
{
    /// <summary>Keeps the entry durably; throws when it could not, so the delivery is not acknowledged.</summary>
    Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default);

    /// <summary>The newest entries first.</summary>
    Task<IReadOnlyList<QuarantineEntry>> ListAsync(int limit, CancellationToken cancellationToken = default);
}
