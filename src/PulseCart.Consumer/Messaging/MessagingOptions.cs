using System.ComponentModel.DataAnnotations;

namespace PulseCart.Consumer.Messaging;

public enum MessageSink
{
    Log,
    File,
    Webhook,
}

/// <summary>Where shopper messages go (<c>PulseCart:Messaging</c>).</summary>
public sealed class MessagingOptions : IValidatableObject
{
    public const string Section = "PulseCart:Messaging";

    /// <summary><c>log</c> (default), <c>file</c> or <c>webhook</c>.</summary>
    public MessageSink Sink { get; set; } = MessageSink.Log;

    /// <summary>The JSON-lines file the <c>file</c> sink appends to.</summary>
    public string? FilePath { get; set; }

    /// <summary>The URL the <c>webhook</c> sink POSTs each message to, with an <c>Idempotency-Key</c> header.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>How long the webhook may take; keep it well under the subscription's ack deadline.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "PulseCart:Messaging:WebhookTimeout must be between 100 ms and 5 minutes.")]
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Sink == MessageSink.File && string.IsNullOrWhiteSpace(FilePath))
        {
            yield return new ValidationResult(
                "PulseCart:Messaging:FilePath is required when PulseCart:Messaging:Sink is file.", [nameof(FilePath)]);
        }

        if (Sink == MessageSink.Webhook && WebhookUrl is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            yield return new ValidationResult(
                "PulseCart:Messaging:WebhookUrl must be an absolute http(s) URL when PulseCart:Messaging:Sink is webhook.", [nameof(WebhookUrl)]);
        }
    }
}
