using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Messaging;

/// <summary>POSTs each message as JSON; anything but a 2xx within the timeout is a failed send, retried unless the sink refused the message for good.</summary>
public sealed class WebhookMessageSender(HttpClient http, IOptions<MessagingOptions> options) : IMessageSender
{
    public string Sink => "webhook";

    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.WebhookUrl)
        {
            Content = JsonContent.Create(message, PulseCartJsonContext.Default.OutboundMessage),
        };
        request.Headers.Add("Idempotency-Key", message.IdempotencyKey);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.WebhookTimeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, timeout.Token);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            throw new MessageSendException($"webhook did not accept {message.IdempotencyKey}: {exception.Message}", exception);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                // A refusal of the message itself (400, 403, 413, 422, an unfollowed redirect, ...) would meet the same
                // answer on every retry: the push is quarantined, for an operator to replay once the sink takes it.
                // Time-outs, conflicts, throttling and 5xx can pass later.
                var status = (int)response.StatusCode;
                var refused = status < 500 && status is not (408 or 409 or 425 or 429);
                throw new MessageSendException($"webhook answered {status} for {message.IdempotencyKey}", refused: refused);
            }
        }
    }
}
