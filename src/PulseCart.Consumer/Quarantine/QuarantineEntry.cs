using System.Text;
using System.Text.Json.Serialization;
using System.Text.Unicode;

namespace PulseCart.Consumer.Quarantine;

/// <summary>
/// A delivery that can never be processed: acknowledged so Pub/Sub stops retrying, and kept here with
/// its reason and raw body, byte for byte, so an operator can see it, fix the cause and replay it.
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
    [property: JsonIgnore] ReadOnlyMemory<byte> Body,
    DateTimeOffset? ReplayedAt = null,
    string? ReplayOutcome = null)
{
    /// <summary>How much of a body a listing shows; the whole body has a URL of its own.</summary>
    public const int PreviewBytes = 2_048;

    public int BodyBytes => Body.Length;

    /// <summary>A new entry keeping its own copy of <paramref name="body"/>, so a replay sends the same bytes.</summary>
    public static QuarantineEntry Create(
        DateTimeOffset receivedAt, string source, string reason, string? messageId, string? subscription,
        string? eventId, string? eventType, ReadOnlySpan<byte> body) =>
        new(Guid.CreateVersion7().ToString("N"), receivedAt, source, reason, messageId, subscription, eventId, eventType, body.ToArray());

    /// <summary>The entry as a listing shows it: the start of the body as text (or base64 when it is not UTF-8).</summary>
    public QuarantineListing ToListing()
    {
        var head = Body.Span[..Math.Min(Body.Length, PreviewBytes)];
        var isText = Utf8.IsValid(Body.Span);
        string preview;
        if (isText)
        {
            // Cut at a character boundary: a preview must not end in half a character.
            var cut = head.Length;
            while (cut > 0 && cut < Body.Length && (Body.Span[cut] & 0xC0) == 0x80)
            {
                cut--;
            }

            preview = Encoding.UTF8.GetString(head[..cut]);
        }
        else
        {
            preview = Convert.ToBase64String(head);
        }

        return new QuarantineListing(
            Id, ReceivedAt, Source, Reason, MessageId, Subscription, EventId, EventType,
            BodyBytes, isText ? "utf-8" : "base64", preview, head.Length < Body.Length, ReplayedAt, ReplayOutcome);
    }
}

/// <summary>One entry in a listing: everything but the full body, which is at <c>/ops/quarantine/{id}/body</c>.</summary>
public sealed record QuarantineListing(
    string Id,
    DateTimeOffset ReceivedAt,
    string Source,
    string Reason,
    string? MessageId,
    string? Subscription,
    string? EventId,
    string? EventType,
    int BodyBytes,
    string BodyEncoding,
    string BodyPreview,
    bool BodyTruncated,
    DateTimeOffset? ReplayedAt,
    string? ReplayOutcome);

/// <summary>One page of the quarantine, newest first, with what it holds in all.</summary>
public sealed record QuarantinePage(IReadOnlyList<QuarantineListing> Entries, int Offset, int? NextOffset, QuarantineStats Stats);

/// <summary>What the quarantine holds and how much its bounds pushed out.</summary>
public sealed record QuarantineStats(long Entries, long Bytes, long Evicted);

public interface IQuarantine
{
    /// <summary>
    /// Keeps the entry durably, evicting the oldest entries beyond <see cref="QuarantineOptions"/>' bounds;
    /// throws when it could not keep it, so the delivery is not acknowledged.
    /// </summary>
    Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Entries newest first, skipping <paramref name="offset"/>.</summary>
    Task<IReadOnlyList<QuarantineEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default);

    Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Records that an operator replayed the entry and what came of it; the entry stays for the record.</summary>
    Task MarkReplayedAsync(string id, DateTimeOffset at, string outcome, CancellationToken cancellationToken = default);

    /// <summary>Counts for the page and the gauges; null when the store cannot say right now.</summary>
    QuarantineStats? Stats();
}
