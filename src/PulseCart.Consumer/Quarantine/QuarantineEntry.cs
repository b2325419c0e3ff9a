using System.Buffers;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using PulseCart.Consumer.Delivery;

namespace PulseCart.Consumer.Quarantine;

/// <summary>
/// A delivery that can never be processed: acknowledged so Pub/Sub stops retrying, and kept here with
/// its reason and raw body, byte for byte, so an operator can see it, fix the cause and replay it. What operators did
/// with it (replayed, discarded, edited) is kept on the entry too: nothing is ever deleted but by the bounds.
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
    string? ReplayOutcome = null,
    string? CartId = null,
    string? OrderId = null,
    string? ReplayedBy = null,
    DateTimeOffset? DiscardedAt = null,
    string? DiscardedBy = null,
    DateTimeOffset? EditedAt = null,
    string? EditedBy = null,
    int EditedBytes = 0,
    // The signature header of an unwrapped (noWrapper) push, which its body alone lacks; a wrapped push carries its
    // signature inside the body.
    string? Signature = null,
    // A replay in flight claims the entry, so that no silo discards, edits or replays it again meanwhile.
    DateTimeOffset? ReplayingSince = null,
    string? ReplayingBy = null)
{
    /// <summary>How much of a body a listing shows; the whole body has a URL of its own.</summary>
    public const int PreviewBytes = 2_048;

    /// <summary>What a listing reads of a body: the preview, and the rest of a character the preview's end cuts.</summary>
    public const int HeadBytes = PreviewBytes + 3;

    /// <summary>
    /// How long a replay's claim holds: longer than a replay can run (a grain call times out after 30 s, a webhook
    /// after at most 5 minutes), so that a claim left by a silo that stopped mid-replay lapses on its own.
    /// </summary>
    public static readonly TimeSpan ReplayClaimLifetime = TimeSpan.FromMinutes(10);

    /// <summary>Whether a replay claimed the entry less than <see cref="ReplayClaimLifetime"/> before <paramref name="now"/>.</summary>
    public bool IsReplaying(DateTimeOffset now) => ReplayingSince is { } since && now - since < ReplayClaimLifetime;

    public int BodyBytes => Body.Length;

    /// <summary>The body an operator edited, kept beside the original; empty unless <see cref="EditedAt"/> is set.</summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte> EditedBody { get; init; }

    /// <summary>What a replay sends: the operator's edit when there is one, else the body as received.</summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte> BodyToReplay => EditedAt is null ? Body : EditedBody;

    /// <summary>Bytes this entry holds against <see cref="QuarantineOptions.MaxBytes"/>.</summary>
    [JsonIgnore]
    public long HeldBytes => Body.Length + EditedBytes;

    /// <summary>open (nothing done yet, or a replay that did not take), replayed or discarded.</summary>
    [JsonIgnore]
    public string State => ReplayedAt is not null ? QuarantineStates.Replayed : DiscardedAt is not null ? QuarantineStates.Discarded : QuarantineStates.Open;

    /// <summary>
    /// A new entry keeping its own copy of <paramref name="body"/>, so a replay sends the same bytes. Only bodies count
    /// against <see cref="QuarantineOptions.MaxBytes"/>: the reason and the names are cut, whatever a sender put in them.
    /// </summary>
    public static QuarantineEntry Create(
        DateTimeOffset receivedAt, string source, string reason, string? messageId, string? subscription,
        string? eventId, string? eventType, ReadOnlySpan<byte> body)
    {
        var copy = body.ToArray();
        var (cartId, orderId) = QuarantineKeys.Read(source, copy);
        return new(
            Guid.CreateVersion7().ToString("N"), receivedAt, source, ShownText.Cut(reason, ShownText.MaxReasonChars),
            ShownText.Cut(messageId, ShownText.MaxNameChars), ShownText.Cut(subscription, ShownText.MaxNameChars), ShownText.Cut(eventId, ShownText.MaxNameChars),
            ShownText.Cut(eventType, ShownText.MaxNameChars), copy, CartId: cartId, OrderId: orderId);
    }

    /// <summary>
    /// The entry as a listing shows it, from <paramref name="head"/> (the body's length and its first
    /// <see cref="HeadBytes"/>): the preview as text, or base64 when it is not UTF-8; and a replay still in flight at
    /// <paramref name="now"/>.
    /// </summary>
    public QuarantineListing ToListing(BodyHead head, DateTimeOffset now)
    {
        var bytes = head.Bytes.Span;
        var shown = bytes[..Math.Min(bytes.Length, PreviewBytes)];

        // A preview must not end in half a character: cut before one that starts at most 3 bytes before the end and
        // runs past it.
        var cut = shown.Length;
        while (cut < bytes.Length && cut > shown.Length - 3 && cut > 0 && (bytes[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        var isText = Utf8.IsValid(shown[..cut])
            && (cut == shown.Length || (Rune.DecodeFromUtf8(bytes[cut..], out _, out var length) == OperationStatus.Done && cut + length > shown.Length));
        var preview = isText ? Encoding.UTF8.GetString(shown[..cut]) : Convert.ToBase64String(shown);
        var cause = QuarantineCauses.Normalise(Reason);
        var replaying = IsReplaying(now);
        return new QuarantineListing(
            Id, ReceivedAt, Source, Reason, MessageId, Subscription, EventId, EventType,
            head.Length, isText ? "utf-8" : "base64", preview, shown.Length < head.Length, ReplayedAt, ReplayOutcome,
            CartId, OrderId, cause, QuarantineCauses.Key(cause), State, ReplayedBy, DiscardedAt, DiscardedBy, EditedAt, EditedBy,
            EditedAt is null ? null : EditedBytes, replaying ? ReplayingSince : null, replaying ? ReplayingBy : null);
    }
}

public static class QuarantineStates
{
    public const string Open = "open";
    public const string Replayed = "replayed";
    public const string Discarded = "discarded";
}

/// <summary>A body's length and its first bytes: what a listing shows of it.</summary>
public readonly record struct BodyHead(int Length, ReadOnlyMemory<byte> Bytes)
{
    public static BodyHead Of(ReadOnlyMemory<byte> body, int bytes) => new(body.Length, body[..Math.Min(body.Length, bytes)]);
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
    string? ReplayOutcome,
    string? CartId,
    string? OrderId,
    string Cause,
    string Group,
    string State,
    string? ReplayedBy,
    DateTimeOffset? DiscardedAt,
    string? DiscardedBy,
    DateTimeOffset? EditedAt,
    string? EditedBy,
    int? EditedBytes,
    DateTimeOffset? ReplayingSince,
    string? ReplayingBy);

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

    /// <summary>Entries newest first, skipping <paramref name="offset"/>; bodies may be left out (see <see cref="HeadsAsync"/>).</summary>
    Task<IReadOnlyList<QuarantineEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default);

    /// <summary>Every entry newest first, for grouping and selecting; bodies may be left out (read one with <see cref="GetAsync"/>).</summary>
    IAsyncEnumerable<QuarantineEntry> ScanAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Each entry's body length and first <paramref name="bytes"/>, in the order of <paramref name="ids"/> (null where
    /// the store keeps no body apart for it), without reading whole bodies into this process: what listings show.
    /// </summary>
    Task<IReadOnlyList<BodyHead?>> HeadsAsync(IReadOnlyList<string> ids, int bytes, CancellationToken cancellationToken = default);

    /// <summary>The entry with its body and any edited body, or null when it is not (or no longer) kept.</summary>
    Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies <paramref name="change"/> to the entry as one step even when other silos change it at the same time
    /// (the change may be called again on the newer entry). Returning the entry unchanged writes nothing; an
    /// <see cref="QuarantineEntry.EditedBody"/> in the result is kept beside the original. Returns the entry as kept
    /// afterwards, or null when it is not kept.
    /// </summary>
    Task<QuarantineEntry?> UpdateAsync(string id, Func<QuarantineEntry, QuarantineEntry> change, CancellationToken cancellationToken = default);

    /// <summary>Counts for the page and the gauges; null when the store cannot say right now.</summary>
    QuarantineStats? Stats();
}
