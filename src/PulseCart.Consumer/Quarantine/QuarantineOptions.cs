using System.ComponentModel.DataAnnotations;

namespace PulseCart.Consumer.Quarantine;

/// <summary>The quarantine of unusable deliveries (<c>PulseCart:Quarantine</c>).</summary>
public sealed class QuarantineOptions
{
    public const string Section = "PulseCart:Quarantine";

    /// <summary>Entries kept, newest first; the oldest are evicted, and counted (each was logged as a warning when it arrived).</summary>
    [Range(10, 1_000_000, ErrorMessage = "PulseCart:Quarantine:MaxEntries must be between 10 and 1000000.")]
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>
    /// Bytes of kept bodies, newest first; the oldest are evicted beyond it. 64 MiB leaves a 1 GiB pod room for its grains
    /// even when every entry is a body of the largest size a push may have.
    /// </summary>
    [Range(1L << 20, 1L << 40, ErrorMessage = "PulseCart:Quarantine:MaxBytes must be between 1 MiB and 1 TiB.")]
    public long MaxBytes { get; set; } = 64L << 20;
}
