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

/// <summary>The sink did not accept a message; the event that caused it must be retried.</summary>
[GenerateSerializer]
public sealed class MessageSendException(string message, Exception? inner = null) : Exception(message, inner);
