namespace PulseCart.Consumer.PubSub;

/// <summary>
/// One Pub/Sub message as a push request delivered it, wrapped or unwrapped: what the consumer uses of it (publish time,
/// ordering key and delivery attempt are not read).
/// </summary>
public sealed record PushMessage(ReadOnlyMemory<byte> Data, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A decoded push request: the message and the fingerprint of its data (see <c>RecentlyRouted</c>), or the type of the
/// event a delivery of the same data was routed as before (then nothing else was decoded), or why the request can never
/// yield a message.
/// </summary>
public sealed record DecodedPush(
    PushMessage? Message,
    string? Rejection,
    string? MessageId,
    string? Subscription,
    UInt128 Fingerprint = default,
    string? RoutedBefore = null);
