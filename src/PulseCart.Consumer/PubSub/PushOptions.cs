using System.ComponentModel.DataAnnotations;

namespace PulseCart.Consumer.PubSub;

/// <summary>The push endpoint (<c>PulseCart:Push</c>).</summary>
public sealed class PushOptions
{
    public const string Section = "PulseCart:Push";

    /// <summary>Request bodies larger than this are refused with 413 (Pub/Sub keeps and redelivers or dead-letters them).</summary>
    [Range(1_024, 16 * 1024 * 1024, ErrorMessage = "PulseCart:Push:MaxBodyBytes must be between 1024 and 16777216.")]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;
}
