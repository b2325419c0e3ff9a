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
    string RawBodyEncoding,
    DateTimeOffset? ReplayedAt = null,
    string? ReplayOutcome = null)
{
    /// <summary>
    /// A new entry keeping <paramref name="body"/> exactly: as text when it is UTF-8, else as base64, so a replay sends
    /// the same bytes.
    /// </summary>
    public static QuarantineEntry Create(
        DateTimeOffset receivedAt, string source, string reason, string? messageId, string? subscription,
        string? eventId, string? eventType, ReadOnlySpan<byte> body)
    {
        string raw, encoding;
        try
        {
            (raw, encoding) = (new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body), "utf-8");
        }
        catch (System.Text.DecoderFallbackException)
        {
            (raw, encoding) = (Convert.ToBase64String(body), "base64");
        }

        return new QuarantineEntry(
            Guid.CreateVersion7().ToString("N"), receivedAt, source, reason, messageId, subscription, eventId, eventType, raw, encoding);
    }

    /// <summary>The body as received, for a replay through the same path.</summary>
    public byte[] RawBytes() =>
        RawBodyEncoding == "base64" ? Convert.FromBase64String(RawBody) : System.Text.Encoding.UTF8.GetBytes(RawBody);
}

public interface IQuarantine
{
    /// <summary>Keeps the entry durably; throws when it could not, so the delivery is not acknowledged.</summary>
    Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default);

    /// <summary>The newest entries first.</summary>
    Task<IReadOnlyList<QuarantineEntry>> ListAsync(int limit, CancellationToken cancellationToken = default);

    Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Records that an operator replayed the entry and what came of it; the entry stays for the record.</summary>
    Task MarkReplayedAsync(string id, DateTimeOffset at, string outcome, CancellationToken cancellationToken = default);

    /// <summary>How many entries are kept, for the size gauge; null when the store cannot say right now.</summary>
    long? Count();
}
