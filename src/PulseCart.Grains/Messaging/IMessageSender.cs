namespace PulseCart.Grains.Messaging;

/// <summary>
/// The port grains send messages through. Returning normally means the sink accepted the message;
/// any failure throws, so the grain records nothing and the delivery is retried.
/// </summary>
public interface IMessageSender
{
    /// <summary>The sink's name, for logs and metrics (<c>log</c>, <c>file</c>, <c>webhook</c>).</summary>
    string Sink { get; }

    Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default);
}

/// <summary>The sink did not accept a message: the event that caused it is retried, or quarantined when the sink refused it for good.</summary>
[GenerateSerializer]
public sealed class MessageSendException(string message, Exception? inner = null, bool refused = false) : Exception(message, inner)
{
    /// <summary>
    /// True when the sink refused the message itself (a 4xx such as 400, 403 or 422), which every retry would meet
    /// again. Stored as the refusal rather than the retry, so that one from a silo without the field reads as a retry.
    /// </summary>
    [Id(0)]
    public bool IsRefusal { get; private set; } = refused;

    /// <summary>True when the sink was unavailable, slow, busy or in conflict: the event is retried.</summary>
    public bool IsTransient => !IsRefusal;
}
