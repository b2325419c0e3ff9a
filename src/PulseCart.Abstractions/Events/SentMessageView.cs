namespace PulseCart.Abstractions.Events;

/// <summary>A message a grain sent, as recorded after the sink accepted it.</summary>
[GenerateSerializer, Immutable]
public sealed record SentMessageView(
    [property: Id(0)] string IdempotencyKey,
    [property: Id(1)] DateTimeOffset SentAt);
