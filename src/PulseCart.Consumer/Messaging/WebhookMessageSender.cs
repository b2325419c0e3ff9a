using System.Buffers;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Messaging;

/// <summary>POSTs each message as JSON; anything but a 2xx within the timeout is a failed send, retried unless the sink refused the message for good.</summary>
public sealed class WebhookMessageSender(HttpClient http, IOptions<MessagingOptions> options) : IMessageSender
{
    // Visible ASCII but '%': what a key keeps as it is in the Idempotency-Key header.
    private static readonly SearchValues<char> HeaderSafe = SearchValues.Create(
        "!\"#$&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    public string Sink => "webhook";

    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.WebhookUrl)
        {
            Content = JsonContent.Create(message, PulseCartJsonContext.Default.OutboundMessage),
        };
        request.Headers.Add("Idempotency-Key", HeaderValue(message.IdempotencyKey));

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

    /// <summary>
    /// The key as a header can carry it: ids may hold any printable character (<c>o-ü</c>), and HTTP header values are
    /// ASCII, so every other character is sent as its UTF-8 bytes percent-encoded, and so is <c>%</c>, keeping two keys
    /// apart. A key of visible ASCII without <c>%</c>, as every key made of ASCII ids, is sent as it is.
    /// </summary>
    private static string HeaderValue(string key)
    {
        if (!key.AsSpan().ContainsAnyExcept(HeaderSafe))
        {
            return key;
        }

        var encoded = new StringBuilder(key.Length * 3);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in key.EnumerateRunes())
        {
            if (rune.IsAscii && HeaderSafe.Contains((char)rune.Value))
            {
                encoded.Append((char)rune.Value);
                continue;
            }

            foreach (var b in utf8[..rune.EncodeToUtf8(utf8)])
            {
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }
}
