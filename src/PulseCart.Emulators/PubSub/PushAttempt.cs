namespace PulseCart.Emulators.PubSub;

/// <summary>What became of a message on a subscription after one push.</summary>
public enum PushAttemptOutcome
{
    /// <summary>The endpoint answered 102, 200, 201, 202 or 204; the message is done on this subscription.</summary>
    Acknowledged,

    /// <summary>A nack (any other answer, or none within the ack deadline); the message is pushed again after a backoff.</summary>
    WillRetry,

    /// <summary>A nack on the last allowed delivery attempt; the message was published to the dead-letter topic.</summary>
    DeadLettered,

    /// <summary>A nack after the subscription's message retention ran out; the message was dropped, as Pub/Sub drops it.</summary>
    Expired,
}

/// <summary>One push of a message to a subscription's endpoint, as operators and tests see it.</summary>
/// <param name="Subscription">The full subscription name.</param>
/// <param name="MessageId">The message's id.</param>
/// <param name="DeliveryAttempt">1 for the first delivery.</param>
/// <param name="StatusCode">The endpoint's HTTP status, or null when it gave no answer.</param>
/// <param name="Error">Why there was no answer (for example <c>DEADLINE_EXCEEDED</c>), or null.</param>
/// <param name="DispatchedAt">When the push was sent, on the emulator's clock.</param>
/// <param name="CompletedAt">When the answer or failure came, on the emulator's clock.</param>
/// <param name="Outcome">What happened to the message.</param>
/// <param name="NextAttemptAt">When it is pushed again, for <see cref="PushAttemptOutcome.WillRetry"/>.</param>
public sealed record PushAttempt(
    string Subscription,
    string MessageId,
    int DeliveryAttempt,
    int? StatusCode,
    string? Error,
    DateTimeOffset DispatchedAt,
    DateTimeOffset CompletedAt,
    PushAttemptOutcome Outcome,
    DateTimeOffset? NextAttemptAt);

/// <summary>A message as the emulator stored it when it was published.</summary>
/// <param name="Topic">The full topic name.</param>
/// <param name="MessageId">The server-assigned id (numeric, unique within the emulator).</param>
/// <param name="Data">The payload.</param>
/// <param name="Attributes">The attributes; on a dead-letter topic these include Pub/Sub's <c>CloudPubSubDeadLetter*</c> ones.</param>
/// <param name="OrderingKey">The ordering key, or null.</param>
/// <param name="PublishTime">When it was published, on the emulator's clock.</param>
public sealed record EmulatedMessage(
    string Topic,
    string MessageId,
    ReadOnlyMemory<byte> Data,
    IReadOnlyDictionary<string, string> Attributes,
    string? OrderingKey,
    DateTimeOffset PublishTime);
