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
public sealed class MessageSendException(string message, Exception? inner = null, bool transient = true) : Exception(message, inner)
{
    /// <summary>
    /// False when the sink refused the message itself (a 4xx such as 400, 403 or 422), which every retry would meet
    /// again; true when it was unavailable, slow, busy or in conflict.
    /// </summary>
    [Id(0)]
    public bool IsTransient { get; private set; } = transient;
}
