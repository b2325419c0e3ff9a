namespace PulseCart.Consumer.PubSub;

/// <summary>One Pub/Sub message as a push request delivered it, wrapped or unwrapped.</summary>
public sealed record PushMessage(
    ReadOnlyMemory<byte> Data,
    IReadOnlyDictionary<string, string> Attributes,
    string? MessageId,
    string? PublishTime,
    string? OrderingKey,
    string? Subscription,
    int? DeliveryAttempt);

/// <summary>
/// A decoded push request: the message and the fingerprint of its data (see <c>RecentlyRouted</c>), or why the request
/// can never yield one.
/// </summary>
public sealed record DecodedPush(PushMessage? Message, string? Rejection, string? MessageId, string? Subscription, UInt128 Fingerprint = default);
