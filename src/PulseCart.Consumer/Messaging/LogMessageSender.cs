using Microsoft.Extensions.Logging;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Messaging;

/// <summary>The embedded default: a message is a log line, so a laptop run shows every send.</summary>
public sealed class LogMessageSender(ILogger<LogMessageSender> logger) : IMessageSender
{
    public string Sink => "log";

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
    {
        logger.LogInformation(
            "Message {Template} to user {UserId} (idempotency key {IdempotencyKey}, event {EventId}, order {OrderId}, cart {CartId})",
            message.Template, message.UserId, message.IdempotencyKey, message.EventId, message.OrderId, message.CartId);
        return Task.CompletedTask;
    }
}
