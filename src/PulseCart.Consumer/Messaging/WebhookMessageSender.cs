using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Messaging;

/// <summary>POSTs each message as JSON; anything but a 2xx within the timeout is a failed send.</summary>
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
                throw new MessageSendException($"webhook answered {(int)response.StatusCode} for {message.IdempotencyKey}");
            }
        }
    }
}
