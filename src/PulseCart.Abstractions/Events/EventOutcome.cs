namespace PulseCart.Abstractions.Events;

/// <summary>What a grain did with one delivery of an event. Every outcome is acknowledged.</summary>
public enum EventOutcome
{
    /// <summary>The event changed state and its effects happened.</summary>
    Processed,

    /// <summary>The event id was seen before; nothing was done again.</summary>
    Duplicate,

    /// <summary>The event arrived after newer news about the same cart or order; it was remembered and changed nothing.</summary>
    Stale,
}
