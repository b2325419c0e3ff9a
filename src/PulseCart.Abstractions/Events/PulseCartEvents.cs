namespace PulseCart.Abstractions.Events;

/// <summary>What every routed event carries: its identity and when it happened at the source.</summary>
public interface IPulseCartEvent
{
    string EventId { get; }

    DateTimeOffset OccurredAt { get; }
}

[GenerateSerializer, Immutable]
public sealed record CartUpdated(
    [property: Id(0)] string EventId,
    [property: Id(1)] DateTimeOffset OccurredAt,
    [property: Id(2)] string CartId,
    [property: Id(3)] string? UserId) : IPulseCartEvent;

[GenerateSerializer, Immutable]
public sealed record CartAbandoned(
    [property: Id(0)] string EventId,
    [property: Id(1)] DateTimeOffset OccurredAt,
    [property: Id(2)] string CartId,
    [property: Id(3)] string UserId,
    [property: Id(4)] decimal? Total,
    [property: Id(5)] string? Currency) : IPulseCartEvent;

[GenerateSerializer, Immutable]
public sealed record OrderPlaced(
    [property: Id(0)] string EventId,
    [property: Id(1)] DateTimeOffset OccurredAt,
    [property: Id(2)] string OrderId,
    [property: Id(3)] string? CartId,
    [property: Id(4)] string UserId,
    [property: Id(5)] decimal? Total,
    [property: Id(6)] string? Currency) : IPulseCartEvent;

[GenerateSerializer, Immutable]
public sealed record PaymentFailed(
    [property: Id(0)] string EventId,
    [property: Id(1)] DateTimeOffset OccurredAt,
    [property: Id(2)] string OrderId,
    [property: Id(3)] string UserId,
    [property: Id(4)] string? Reason) : IPulseCartEvent;
