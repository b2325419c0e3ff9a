using System.ComponentModel.DataAnnotations;

namespace PulseCart.Consumer.PubSub;

/// <summary>The push endpoint (<c>PulseCart:Push</c>).</summary>
public sealed class PushOptions
{
    public const string Section = "PulseCart:Push";

    /// <summary>Request bodies larger than this are refused with 413 (Pub/Sub keeps and redelivers or dead-letters them).</summary>
    [Range(1_024, 16 * 1024 * 1024, ErrorMessage = "PulseCart:Push:MaxBodyBytes must be between 1024 and 16777216.")]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// When set, every message must carry an HMAC-SHA256 of its data, in hex, in <see cref="SignatureAttribute"/>;
    /// an unsigned or mis-signed message is quarantined, not processed.
    /// </summary>
    public string? SignatureSecret { get; set; }

    /// <summary>The message attribute holding the signature (a plain header for unwrapped deliveries).</summary>
    public string SignatureAttribute { get; set; } = "signature";

    /// <summary>
    /// Pushes read or handled at once, counted until their handling ends, even after a 504. One more is answered 429
    /// with <c>Retry-After</c> before its body is read, so the bodies in memory (each in a pooled buffer of up to twice
    /// its size) and the state writes waiting on Redis stay bounded whatever arrives. Task callbacks are bounded by
    /// their queue's <c>maxConcurrentDispatches</c> instead.
    /// </summary>
    [Range(1, 100_000, ErrorMessage = "PulseCart:Push:MaxInFlight must be between 1 and 100000.")]
    public int MaxInFlight { get; set; } = 1_000;

    /// <summary>A push or task callback still running after this is abandoned with 504; keep it above the ack deadline.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00", ErrorMessage = "PulseCart:Push:RequestTimeout must be between 1 second and 30 minutes.")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
