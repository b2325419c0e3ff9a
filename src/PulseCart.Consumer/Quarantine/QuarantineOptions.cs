using System.ComponentModel.DataAnnotations;

namespace PulseCart.Consumer.Quarantine;

/// <summary>The quarantine of unusable deliveries (<c>PulseCart:Quarantine</c>).</summary>
public sealed class QuarantineOptions
{
    public const string Section = "PulseCart:Quarantine";

    /// <summary>Entries kept, newest first; older ones are trimmed (each is also logged as a warning when it arrives).</summary>
    [Range(10, 1_000_000, ErrorMessage = "PulseCart:Quarantine:MaxEntries must be between 10 and 1000000.")]
    public int MaxEntries { get; set; } = 10_000;
}
