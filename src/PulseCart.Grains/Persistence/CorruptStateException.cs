namespace PulseCart.Grains.Persistence;

/// <summary>
/// What storage holds for one grain cannot be read as its state (a key of another type, a missing or non-numeric
/// version, a malformed member). Reading it again gives the same answer, so the delivery is quarantined, not retried;
/// and it fails only that grain, never the others read or written in the same batch.
/// </summary>
[GenerateSerializer]
public sealed class CorruptStateException(string message, Exception? inner = null) : Exception(message, inner);
