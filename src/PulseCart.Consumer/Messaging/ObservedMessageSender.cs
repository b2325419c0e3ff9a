using PulseCart.Consumer.Telemetry;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Messaging;

/// <summary>Counts and shows each message the sink accepted; a failed send is neither.</summary>
public sealed class ObservedMessageSender(IMessageSender sink, ConsumerMetrics metrics, RecentActivity recent) : IMessageSender
{
    public string Sink => sink.Sink;

    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
    {
        await sink.SendAsync(message, cancellationToken);
        metrics.MessageSent(message.Template, sink.Sink);
        recent.Message(message.Template, message.IdempotencyKey, message.UserId, sink.Sink);
    }
}
