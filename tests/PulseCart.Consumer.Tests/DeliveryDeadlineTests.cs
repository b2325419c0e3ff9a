using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// <c>PulseCart:Push:RequestTimeout</c>: a delivery still being handled then is answered 504, so Pub/Sub delivers it
/// again; the handling goes on, and its effect happens once.
/// </summary>
public sealed class DeliveryDeadlineTests
{
    [Fact]
    public async Task APushStillHandledAtTheDeadlineGets504AndItsConfirmationIsSentOnce()
    {
        var sender = new HeldSender();
        await using var consumer = new ConsumerFactory(
            new Dictionary<string, string?> { ["PulseCart:Push:RequestTimeout"] = "00:00:01" },
            services: services => services.AddSingleton<IMessageSender>(sender));
        var client = consumer.CreateClient();
        var @event = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1");

        var clock = Stopwatch.StartNew();
        var first = await client.PushAsync(@event);

        Assert.Equal(HttpStatusCode.GatewayTimeout, first.StatusCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.Equal(0, sender.Sent);

        sender.Release();
        var again = await client.PushAsync(@event);

        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        Assert.Equal("duplicate", again.Outcome());
        Assert.Equal(1, sender.Sent);
    }

    [Fact]
    public async Task BeyondMaxInFlightAPushIsAnswered429UntilAHandlingEndsEvenOneAnswered504()
    {
        var sender = new HeldSender();
        await using var consumer = new ConsumerFactory(
            new Dictionary<string, string?>
            {
                ["PulseCart:Push:RequestTimeout"] = "00:00:01",
                ["PulseCart:Push:MaxInFlight"] = "2",
            },
            services: services => services.AddSingleton<IMessageSender>(sender));
        var client = consumer.CreateClient();

        // Two held orders: answered 504 at the deadline, and still being handled.
        var held = await Task.WhenAll(
            client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1")),
            client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1")));
        Assert.All(held, response => Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode));

        var third = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1");
        var refused = await client.PushAsync(third);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());

        // Once the held ones finish, the redelivery goes through.
        sender.Release();
        var clock = Stopwatch.StartNew();
        HttpResponseMessage redelivered;
        while ((redelivered = await client.PushAsync(third)).StatusCode == HttpStatusCode.TooManyRequests && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.Equal("processed", redelivered.Outcome());
        Assert.Equal(3, sender.Sent);
    }

    [Fact]
    public async Task AnUnwrappedPushThatFailsAfterItsDeadlineIsQuarantinedWithItsOwnSignature()
    {
        const string secret = "shared-publisher-secret";
        var sender = new HeldSender(failFirst: new InvalidOperationException("template order_confirmation has no text"));
        await using var consumer = new ConsumerFactory(
            new Dictionary<string, string?>
            {
                ["PulseCart:Push:RequestTimeout"] = "00:00:01",
                ["PulseCart:Push:SignatureSecret"] = secret,
            },
            services: services => services.AddSingleton<IMessageSender>(sender));
        var client = consumer.CreateClient();
        var order = Push.NewId("o");
        var data = Encoding.UTF8.GetBytes(Push.OrderPlaced(Push.NewId("e"), order, "u-1").ToJsonString());
        var signature = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data));

        // One keep-alive connection, as Pub/Sub's pushes share one: the held push is answered 504 and handled on while
        // the connection carries its next request, with a signature header of its own.
        using var connection = new TcpClient();
        await connection.ConnectAsync(IPAddress.Loopback, consumer.Port);
        var stream = connection.GetStream();
        Assert.StartsWith("HTTP/1.1 504", await ExchangeAsync(stream, "POST", "/consumer/push", signature, data));
        Assert.StartsWith("HTTP/1.1 200", await ExchangeAsync(stream, "GET", "/health/live", "0badc0de", []));

        sender.Release();
        var entry = await QuarantinedOrderAsync(client, order);
        sender.FailFirst = null;
        var replayed = await (await client.ActAsync(entry.GetProperty("id").GetString()!, "replay")).JsonAsync();

        // The replay checks the signature the push came with: a header read late would be the next request's or none.
        Assert.Equal("processed", replayed.GetProperty("outcome").GetString());
        Assert.Equal(1, sender.Sent);
    }

    private static async Task<string> ExchangeAsync(NetworkStream stream, string method, string path, string signature, byte[] body)
    {
        var head = $"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nsignature: {signature}\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);

        // The whole answer, its body included, so that the next request's answer starts where this one ends.
        var answer = new List<byte>();
        var buffer = new byte[4096];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!Complete(answer))
        {
            var read = await stream.ReadAsync(buffer, wait.Token);
            Assert.NotEqual(0, read);
            answer.AddRange(buffer.AsSpan(0, read));
        }

        return Encoding.ASCII.GetString(answer.ToArray());
    }

    private static bool Complete(List<byte> answer)
    {
        var text = Encoding.ASCII.GetString(answer.ToArray());
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headEnd < 0)
        {
            return false;
        }

        var length = text[..headEnd].Split("\r\n")
            .Where(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(line => int.Parse(line["Content-Length:".Length..].Trim()))
            .FirstOrDefault();
        return answer.Count >= headEnd + 4 + length;
    }

    private static async Task<JsonElement> QuarantinedOrderAsync(HttpClient client, string order)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var entries = await client.EntriesAsync($"order_id={order}");
            if (entries.Count > 0 || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return Assert.Single(entries);
            }

            await Task.Delay(50);
        }
    }
}
