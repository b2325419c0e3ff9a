using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace PulseCart.Consumer.Tests;

public sealed class PushEndpointTests(ConsumerFixture fixture) : IClassFixture<ConsumerFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task OrderPlacedSendsOneConfirmationWithItsIdempotencyKey()
    {
        var order = Push.NewId("o");
        var eventId = Push.NewId("e");

        var response = await Client.PushAsync(Push.OrderPlaced(eventId, order, "u-42"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("processed", response.Outcome());
        var message = Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
        Assert.Equal("order_confirmation", message.GetProperty("template").GetString());
        Assert.Equal("u-42", message.GetProperty("user_id").GetString());
        Assert.Equal(eventId, message.GetProperty("event_id").GetString());
        Assert.Equal(order, message.GetProperty("order_id").GetString());
        Assert.True(DateTimeOffset.TryParse(message.GetProperty("sent_at").GetString(), out _));
    }

    [Fact]
    public async Task RedeliveriesAreAcknowledgedWithoutASecondMessage()
    {
        var order = Push.NewId("o");
        var placed = Push.OrderPlaced(Push.NewId("e"), order, "u-1");

        var outcomes = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var response = await Client.PushAsync(placed);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            outcomes.Add(response.Outcome());
        }

        Assert.Equal(["processed", "duplicate", "duplicate"], outcomes);
        Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task FiftyConcurrentIdenticalDeliveriesSendOneMessage()
    {
        var order = Push.NewId("o");
        var body = Push.Envelope(Push.OrderPlaced(Push.NewId("e"), order, "u-1", cartId: Push.NewId("c")));

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Client.SendAsync(body)));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.NoContent, response.StatusCode));
        // The order grain and the cart grain each process once, possibly for different deliveries of the fifty.
        Assert.Contains(responses, response => response.Outcome() == "processed");
        Assert.All(responses, response => Assert.Contains(response.Outcome(), new[] { "processed", "duplicate" }));
        Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task AnEventIdReusedForAnotherCartIsNotTakenForADuplicate()
    {
        var eventId = Push.NewId("e");
        var first = await Client.PushAsync(Push.CartUpdated(eventId, Push.NewId("c"), "u-1", Push.T0));
        var again = await Client.PushAsync(Push.CartUpdated(eventId, Push.NewId("c"), "u-1", Push.T0));

        Assert.Equal(["processed", "processed"], new[] { first.Outcome(), again.Outcome() });
    }

    [Fact]
    public async Task PaymentFailedSendsOneRetryMessagePerEvent()
    {
        var order = Push.NewId("o");
        var first = Push.NewId("e");
        var second = Push.NewId("e");

        await Client.PushAsync(Push.PaymentFailed(first, order, "u-7"));
        await Client.PushAsync(Push.PaymentFailed(first, order, "u-7"));
        await Client.PushAsync(Push.PaymentFailed(second, order, "u-7"));

        Assert.Single(fixture.Factory.SentWithKey($"payment_retry:{first}"));
        Assert.Single(fixture.Factory.SentWithKey($"payment_retry:{second}"));
        var view = await Client.GetJsonAsync($"/ops/orders/{order}");
        Assert.Equal(2, view.GetProperty("payment_failures").GetInt32());
    }

    [Fact]
    public async Task APaymentFailureWithAnyReasonStillSendsItsRetryMessage()
    {
        // The reason is the payment gateway's free text, used by nothing here: it is no cause to refuse the event.
        JsonNode[] reasons = ["Your card was declined.\n", "insufficient funds ", new string('x', 5_000), 42];
        foreach (var reason in reasons)
        {
            var eventId = Push.NewId("e");
            var failed = Push.PaymentFailed(eventId, Push.NewId("o"), "u-7");
            failed["payload"]!["reason"] = reason;

            Assert.Equal("processed", (await Client.PushAsync(failed)).Outcome());
            Assert.Single(fixture.Factory.SentWithKey($"payment_retry:{eventId}"));
        }
    }

    [Fact]
    public async Task UnwrappedDeliveryWithMetadataHeadersIsProcessed()
    {
        var order = Push.NewId("o");
        var request = new HttpRequestMessage(HttpMethod.Post, "/consumer/push")
        {
            Content = new StringContent(Push.OrderPlaced(Push.NewId("e"), order, "u-1").ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-goog-pubsub-message-id", "42");
        request.Headers.Add("x-goog-pubsub-subscription-name", "projects/p/subscriptions/s");
        request.Headers.Add("x-goog-pubsub-publish-time", "2026-11-22T10:00:01Z");

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("processed", response.Outcome());
        Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task AnEventarcCloudEventInBinaryModeIsProcessedAndItsRedeliveryIsADuplicate()
    {
        var order = Push.NewId("o");
        HttpRequestMessage CloudEvent(string body)
        {
            // Binary mode: the envelope's shape is the body, the CloudEvent's attributes are ce-* headers.
            var request = new HttpRequestMessage(HttpMethod.Post, "/consumer/push") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("ce-id", "1234567890");
            request.Headers.Add("ce-source", "//pubsub.googleapis.com/projects/p/topics/pulsecart-events");
            request.Headers.Add("ce-specversion", "1.0");
            request.Headers.Add("ce-type", "google.cloud.pubsub.topic.v1.messagePublished");
            return request;
        }

        var body = Push.Envelope(Push.OrderPlaced(Push.NewId("e"), order, "u-1"));

        Assert.Equal("processed", (await Client.SendAsync(CloudEvent(body))).Outcome());
        Assert.Equal("duplicate", (await Client.SendAsync(CloudEvent(body))).Outcome());
        Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task AnEventarcCloudEventInStructuredModeIsReadLikeAPushAndMeetsItsDuplicates()
    {
        var order = Push.NewId("o");
        var envelope = Push.Envelope(Push.OrderPlaced(Push.NewId("e"), order, "u-1"));
        var structured = new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = "1234567891",
            ["source"] = "//pubsub.googleapis.com/projects/p/topics/pulsecart-events",
            ["type"] = "google.cloud.pubsub.topic.v1.messagePublished",
            ["datacontenttype"] = "application/json",
            ["data"] = JsonNode.Parse(envelope),
        }.ToJsonString();

        var response = await Client.PostAsync("/consumer/push", new StringContent(structured, Encoding.UTF8, "application/cloudevents+json"));

        Assert.Equal("processed", response.Outcome());
        Assert.Equal("duplicate", (await Client.SendAsync(envelope)).Outcome());
        Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task ACloudEventWhoseDataIsNotAPubSubMessageIsQuarantined()
    {
        var structured = """{"specversion":"1.0","id":"9","source":"//storage.googleapis.com/b","type":"google.cloud.storage.object.v1.finalized","data":{"bucket":"b","name":"n"}}""";

        var response = await Client.PostAsync("/consumer/push", new StringContent(structured, Encoding.UTF8, "application/cloudevents+json"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("quarantined", response.Outcome());
    }

    [Fact]
    public async Task SnakeCaseEnvelopeFieldsAreAccepted()
    {
        var order = Push.NewId("o");
        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes(Push.OrderPlaced(Push.NewId("e"), order, "u-1").ToJsonString()));
        var body = new JsonObject
        {
            ["message"] = new JsonObject { ["data"] = data, ["message_id"] = "7", ["publish_time"] = "2026-11-22T10:00:01Z" },
            ["subscription"] = "projects/p/subscriptions/s",
            ["deliveryAttempt"] = 3,
        }.ToJsonString();

        var response = await Client.SendAsync(body);

        Assert.Equal("processed", response.Outcome());
        Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task UnroutedEventTypeIsAcknowledgedAndNotQuarantined()
    {
        var eventId = Push.NewId("e");
        var response = await Client.PushAsync(Push.Event("wishlist.shared", eventId, Push.T0, "u-1", new JsonObject()));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("ignored", response.Outcome());
        var quarantine = await Client.QuarantinedAsync();
        Assert.DoesNotContain(quarantine, entry => entry.TryGetProperty("event_id", out var id) && id.GetString() == eventId);
    }

    [Fact]
    public async Task AbandonmentAfterThePurchaseArrivingLateSchedulesNoReminder()
    {
        var cart = Push.NewId("c");
        await Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1", cartId: cart, at: Push.T0));

        var late = await Client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, "u-1", Push.T0.AddMinutes(-5)));

        Assert.Equal("stale", late.Outcome());
        var view = await Client.GetJsonAsync($"/ops/carts/{cart}");
        Assert.Equal("purchased", view.GetProperty("status").GetString());
        Assert.False(view.TryGetProperty("reminder", out _));
    }

    [Fact]
    public async Task AbandonmentShowsItsReminderDueTimeToOperators()
    {
        var cart = Push.NewId("c");
        var abandonedAt = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, "u-1", abandonedAt));

        var view = await Client.GetJsonAsync($"/ops/carts/{cart}");

        Assert.Equal("abandoned", view.GetProperty("status").GetString());
        var reminder = view.GetProperty("reminder");
        Assert.Equal("scheduled", reminder.GetProperty("status").GetString());
        Assert.Equal(abandonedAt.AddHours(2), reminder.GetProperty("due_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task OversizedBodyIsRefused()
    {
        var response = await Client.SendAsync(new string('x', 1024 * 1024 + 1));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData("/ops/carts/never-seen")]
    [InlineData("/ops/orders/never-seen")]
    public async Task OperatorReadOfAnUnknownIdIsNotFound(string path)
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task HealthEndpointsReportLiveAndReady()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health/ready")).StatusCode);
    }
}
