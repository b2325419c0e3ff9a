using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Google.CloudTasks;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Reminders;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// Inputs that fail the same way however often they are delivered are acknowledged and kept, never answered 5xx:
/// a 5xx makes Pub/Sub redeliver until the dead-letter topic, and the delivery never reaches the quarantine.
/// </summary>
public sealed class PoisonMessageTests(ConsumerFixture fixture) : IClassFixture<ConsumerFixture>
{
    private HttpClient Client => fixture.Client;

    public static TheoryData<string, string> LoneSurrogateNames() => new()
    {
        { "root of the body", """{"\ud800":1}""" },
        { "attribute name", """{"message":{"data":"e30=","attributes":{"\ud800":"x"},"messageId":"1"},"subscription":"s"}""" },
        { "key inside the event", Push.EnvelopeOfData(Base64("""{"\udc00":1,"event_id":"e","event_type":"order.placed"}""")) },
        { "key inside the payload", Push.EnvelopeOfData(Base64(
            $$$"""{"event_id":"{{{Push.NewId("e")}}}","event_type":"order.placed","occurred_at":"{{{Push.T0:O}}}","user_id":"u","payload":{"order_id":"o","\ud83d":1}}""")) },
    };

    [Fact]
    public async Task WhatDescribesAQuarantinedDeliveryIsCutHoweverLongItWasSent()
    {
        // Only bodies count against the quarantine's byte bound: an event_version quoted whole in the reason and a long
        // message id were kept beside the body, as UTF-16 text the bound never counted.
        var eventId = Push.NewId("e");
        var @event = Push.CartUpdated(eventId, Push.NewId("c"), "u-1", DateTimeOffset.UtcNow);
        @event["event_version"] = new string('9', 200_000);

        var response = await Client.SendAsync(Push.Envelope(@event, messageId: new string('m', 100_000)));

        Assert.Equal("quarantined", response.Outcome());
        var entry = Assert.Single(await Client.QuarantinedAsync(), e => e.TryGetProperty("event_id", out var id) && id.GetString() == eventId);
        var reason = entry.GetProperty("reason").GetString()!;
        Assert.StartsWith("event_version \"9999", reason);
        Assert.InRange(reason.Length, 1, 200);
        Assert.Equal(new string('m', 512) + "…", entry.GetProperty("message_id").GetString());
    }

    [Theory]
    [MemberData(nameof(LoneSurrogateNames))]
    public async Task EscapedLoneSurrogateInANameIsQuarantinedNotRetried(string where, string body)
    {
        var response = await Client.SendAsync(body);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("quarantined", response.Outcome());
        var entry = Assert.Single(await Client.QuarantinedAsync(), e => e.GetProperty("body_preview").GetString() == body);
        Assert.Contains("Unicode", entry.GetProperty("reason").GetString());
        Assert.NotNull(where);
    }

    public static TheoryData<string> NotRfc3339() =>
        ["10:00", "11/22/2026", "Nov 22 2026", "2026-11-22", "2026-11-22T10:00:00", "2026-11-22 10:00:00Z", "2026-13-01T00:00:00Z",
         "2026-02-30T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:00:00+25:00", "2026-11-22T10:00:00.Z", "+002026-11-22T10:00:00Z"];

    [Theory]
    [MemberData(nameof(NotRfc3339))]
    public async Task OccurredAtThatIsNotRfc3339WithAnOffsetIsQuarantined(string occurredAt)
    {
        var @event = Push.CartUpdated(Push.NewId("e"), Push.NewId("c"), "u-1", Push.T0);
        @event["occurred_at"] = occurredAt;

        var response = await Client.PushAsync(@event);

        Assert.Equal("quarantined", response.Outcome());
        Assert.Contains("RFC 3339", await ReasonForAsync(@event));
    }

    [Theory]
    [InlineData(0, "", "Z")]
    [InlineData(0, "", "z")]
    [InlineData(60, "", "+01:00")]
    [InlineData(-330, "", "-05:30")]
    [InlineData(0, ".123456789", "Z")]
    [InlineData(0, ".5", "+00:00")]
    public async Task RecentOccurredAtInAnyRfc3339FormIsProcessed(int offsetMinutes, string fraction, string zone)
    {
        var local = DateTimeOffset.UtcNow.AddMinutes(-30).ToOffset(TimeSpan.FromMinutes(offsetMinutes));
        var @event = Push.CartUpdated(Push.NewId("e"), Push.NewId("c"), "u-1", local);
        @event["occurred_at"] = local.ToString("yyyy-MM-dd'T'HH:mm:ss") + fraction + zone;

        Assert.Equal("processed", (await Client.PushAsync(@event)).Outcome());
    }

    public static TheoryData<string, string> OutOfWindow() => new()
    {
        { "cart.abandoned", "9999-12-31T23:00:00Z" },
        { "cart.abandoned", DateTimeOffset.UtcNow.AddDays(366).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") },
        { "cart.abandoned", DateTimeOffset.UtcNow.AddMinutes(10).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") },
        { "cart.updated", "9999-12-31T23:59:59.9999999Z" },
        { "order.placed", "0001-01-01T00:00:00Z" },
        { "payment.failed", DateTimeOffset.UtcNow.AddDays(-9).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") },
    };

    [Theory]
    [MemberData(nameof(OutOfWindow))]
    public async Task OccurredAtOutsideTheAcceptedWindowIsQuarantinedWithItsBound(string type, string occurredAt)
    {
        var @event = Push.Event(type, Push.NewId("e"), Push.T0, "u-1", new JsonObject { ["cart_id"] = Push.NewId("c"), ["order_id"] = Push.NewId("o") });
        @event["occurred_at"] = occurredAt;

        var response = await Client.PushAsync(@event);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("quarantined", response.Outcome());
        Assert.Matches("PulseCart:Events:(MaxAge|ClockSkew)", await ReasonForAsync(@event));
    }

    [Fact]
    public async Task AFarFutureEventDoesNotPoisonItsCart()
    {
        var cart = Push.NewId("c");
        var future = Push.CartUpdated(Push.NewId("e"), cart, "u-1", Push.T0);
        future["occurred_at"] = "9999-12-31T23:00:00Z";
        Assert.Equal("quarantined", (await Client.PushAsync(future)).Outcome());

        Assert.Equal("processed", (await Client.PushAsync(Push.CartUpdated(Push.NewId("e"), cart, "u-1", Push.T0))).Outcome());
        Assert.Equal("processed", (await Client.PushAsync(Push.CartUpdated(Push.NewId("e"), cart, "u-1", Push.T0.AddMinutes(1)))).Outcome());
    }

    [Theory]
    [InlineData("c\u202Eevil")]
    [InlineData("c\u200Bzero-width")]
    [InlineData("\uFEFFc")]
    [InlineData("c\u2028line")]
    [InlineData("c\u2029paragraph")]
    [InlineData("c\u00ADsoft-hyphen")]
    public async Task IdsWithInvisibleOrLayoutCharactersAreQuarantined(string cartId)
    {
        var @event = Push.CartUpdated(Push.NewId("e"), cartId + Guid.NewGuid().ToString("N"), "u-1", Push.T0);

        Assert.Equal("quarantined", (await Client.PushAsync(@event)).Outcome());
        Assert.Contains("invisible or layout character", await ReasonForAsync(@event));
    }

    [Fact]
    public async Task InvalidUtf8InAFieldTheParserDoesNotReadIsQuarantined()
    {
        var eventId = Push.NewId("e");
        var json = Encoding.UTF8.GetBytes(Push.CartUpdated(eventId, Push.NewId("c"), "u-1", Push.T0).ToJsonString());
        var marker = Encoding.UTF8.GetBytes("\"tests\"");
        var at = json.AsSpan().IndexOf(marker);
        json[at + 1] = 0xC3;
        json[at + 2] = 0x28;

        var response = await Client.SendAsync(Push.EnvelopeOfData(Convert.ToBase64String(json)));

        Assert.Equal("quarantined", response.Outcome());
        Assert.Contains(await Client.QuarantinedAsync(), e => e.GetProperty("reason").GetString() == "event is not valid UTF-8");
    }

    [Fact]
    public async Task AConfirmationIsNeverSentTwiceHoweverManyPaymentFailuresFollow()
    {
        var order = Push.NewId("o");
        Assert.Equal("processed", (await Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1"))).Outcome());
        for (var i = 0; i < SentMessageLog.MaxPerEventEntries + 1; i++)
        {
            Assert.Equal("processed", (await Client.PushAsync(Push.PaymentFailed(Push.NewId("e"), order, "u-1"))).Outcome());
        }

        var second = await Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1"));

        Assert.Equal("stale", second.Outcome());
        Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
        var kept = (await Client.GetJsonAsync($"/ops/orders/{order}")).GetProperty("messages").EnumerateArray()
            .Select(message => message.GetProperty("idempotency_key").GetString()!).ToList();
        Assert.Contains($"order_confirmation:{order}", kept);
        Assert.Equal(SentMessageLog.MaxPerEventEntries, kept.Count(key => key.StartsWith("payment_retry:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ABodySentTooSlowlyIsCutOffWithoutAnErrorInTheLog()
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, fixture.Factory.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "POST /consumer/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"));

        // Kestrel's minimum body data rate has a 5 s grace period; then the read fails on the server's side.
        var answer = new byte[4096];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var read = await stream.ReadAsync(answer, wait.Token);

        Assert.True(read == 0 || Encoding.ASCII.GetString(answer, 0, read).StartsWith("HTTP/1.1 4", StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Factory.Logs.Lines, line => line.StartsWith("Error") || line.StartsWith("Critical"));
    }

    private async Task<string> ReasonForAsync(JsonNode @event)
    {
        var eventId = @event["event_id"]!.GetValue<string>();
        var entry = Assert.Single(await Client.QuarantinedAsync(), e => e.TryGetProperty("event_id", out var id) && id.GetString() == eventId);
        return entry.GetProperty("reason").GetString()!;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}

/// <summary>
/// A failure inside the consumer's own path is judged by whether a retry can succeed: a dependency that is down gets
/// 503; anything deterministic is quarantined with the exception as its reason, for an operator to replay after a fix.
/// </summary>
public sealed class DeterministicFailureTests
{
    [Fact]
    public async Task AnUnexpectedExceptionQuarantinesTheDeliveryWithItsTypeAndMessage()
    {
        await using var consumer = new ConsumerFactory(services: services =>
            services.AddSingleton<IMessageSender>(new FailingSender(new InvalidOperationException("template order_confirmation has no text"))));
        var client = consumer.CreateClient();
        var @event = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1");

        var response = await client.PushAsync(@event);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("quarantined", response.Outcome());
        var entry = Assert.Single(await client.QuarantinedAsync());
        Assert.Contains("InvalidOperationException: template order_confirmation has no text", entry.GetProperty("reason").GetString());
        Assert.Equal(@event["event_id"]!.GetValue<string>(), entry.GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task ASinkThatIsDownIsTransientAndAsksForARetry()
    {
        await using var consumer = new ConsumerFactory(services: services =>
            services.AddSingleton<IMessageSender>(new FailingSender(new MessageSendException("webhook answered 503"))));
        var client = consumer.CreateClient();

        var response = await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Empty(await client.QuarantinedAsync());
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "INVALID_ARGUMENT", "quarantined")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "UNAVAILABLE", null)]
    public async Task CloudTasksRefusingForGoodQuarantinesAndBeingDownRetries(HttpStatusCode status, string googleStatus, string? outcome)
    {
        await using var consumer = new ConsumerFactory(services: services =>
            services.AddSingleton<ITaskQueue>(new RefusingQueue(new CloudTasksException("scheduleTime is too far ahead", status, googleStatus))));
        var client = consumer.CreateClient();

        var response = await client.PushAsync(Push.CartAbandoned(Push.NewId("e"), Push.NewId("c"), "u-1", Push.T0));

        if (outcome is null)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
        else
        {
            Assert.Equal(outcome, response.Outcome());
            Assert.Contains("CloudTasksException", Assert.Single(await client.QuarantinedAsync()).GetProperty("reason").GetString());
        }
    }

    [Fact]
    public async Task ARefusedConfirmationDoesNotHideACartFailureThatARetryFixes()
    {
        // The webhook refuses the confirmation for good; the cart's side fails once, as when Redis times out.
        var cart = Push.NewId("c");
        var failingOnce = new FailingCartOnce(cart);
        await using var consumer = new ConsumerFactory(services: services => services
            .AddSingleton<IMessageSender>(new FailingSender(new MessageSendException("webhook answered 422", refused: true)))
            .AddSingleton<IIncomingGrainCallFilter>(failingOnce));
        var client = consumer.CreateClient();
        var placed = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1", cart);

        var first = await client.PushAsync(placed);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Empty(await client.QuarantinedAsync());

        var redelivered = await client.PushAsync(placed);
        Assert.Equal("quarantined", redelivered.Outcome());
        Assert.Contains("webhook answered 422", Assert.Single(await client.QuarantinedAsync()).GetProperty("reason").GetString());
        Assert.Equal("purchased", (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("status").GetString());
    }

    /// <summary>Fails the first call to one cart's grain with a timeout, before the grain runs it.</summary>
    private sealed class FailingCartOnce(string cartId) : IIncomingGrainCallFilter
    {
        private int _failed;

        public Task Invoke(IIncomingGrainCallContext context) =>
            context.TargetId.Key.ToString() == cartId && Interlocked.Exchange(ref _failed, 1) == 0
                ? throw new TimeoutException("state write timed out")
                : context.Invoke();
    }

    private sealed class FailingSender(Exception failure) : IMessageSender
    {
        public string Sink => "failing";

        public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default) => Task.FromException(failure);
    }

    private sealed class RefusingQueue(Exception failure) : ITaskQueue
    {
        public Task<string> ScheduleAsync(ReminderTask task, CancellationToken cancellationToken = default) => Task.FromException<string>(failure);

        public Task DeleteAsync(string taskName, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
