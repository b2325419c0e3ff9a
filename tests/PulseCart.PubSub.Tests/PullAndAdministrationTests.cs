using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.PubSub.Tests;

/// <summary>Pull subscriptions, Eventarc delivery, and changing or deleting topics and subscriptions, over REST.</summary>
public sealed class PullAndAdministrationTests
{
    [Fact]
    public async Task UnacknowledgedPullIsRedeliveredAfterItsDeadlineAndDeadLetteredAfterMaxDeliveryAttempts()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateTopicAsync("orders-dead");
        await CreatePullSubscriptionAsync(host, "puller", "orders", ""","ackDeadlineSeconds":20,"deadLetterPolicy":{"deadLetterTopic":"projects/test-project/topics/orders-dead","maxDeliveryAttempts":5}""");
        var id = await host.PublishAsync("orders", "poison");

        var first = Assert.Single(await PullAsync(host, "puller"));
        Assert.Equal((id, 1), (first.GetProperty("message").GetProperty("messageId").GetString(), first.GetProperty("deliveryAttempt").GetInt32()));
        await host.IdleAsync();
        await host.AdvanceAsync(TimeSpan.FromSeconds(19));
        Assert.Empty(await PullAsync(host, "puller"));

        // The lease runs out at 20 s: a nack, and with no retry policy the message is ready again at once.
        await host.AdvanceAsync(TimeSpan.FromSeconds(1));
        var second = Assert.Single(await PullAsync(host, "puller"));
        Assert.Equal(2, second.GetProperty("deliveryAttempt").GetInt32());

        // modifyAckDeadline 0 hands a message back at once.
        await NackAsync(host, second);
        for (var attempt = 3; attempt <= 5; attempt++)
        {
            var again = Assert.Single(await PullAsync(host, "puller"));
            Assert.Equal(attempt, again.GetProperty("deliveryAttempt").GetInt32());
            await NackAsync(host, again);
        }

        Assert.Empty(await PullAsync(host, "puller"));
        var deadLetter = Assert.Single(host.Emulator.MessagesOf(PubSubHost.TopicName("orders-dead")));
        Assert.Equal("poison", Encoding.UTF8.GetString(deadLetter.Data.Span));
        Assert.Equal("5", deadLetter.Attributes["CloudPubSubDeadLetterSourceDeliveryCount"]);
    }

    [Fact]
    public async Task AcknowledgedPullIsNotDeliveredAgainAndAnExtendedDeadlineHoldsItBack()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await CreatePullSubscriptionAsync(host, "puller", "orders", "");
        await host.PublishAsync("orders", "one");
        await host.PublishAsync("orders", "two");

        var pulled = await PullAsync(host, "puller");
        Assert.Equal(["one", "two"], pulled.Select(Data));
        Assert.False(pulled[0].TryGetProperty("deliveryAttempt", out _), "deliveryAttempt is set only with a dead-letter policy");
        using (var acked = await host.PostAsync($"{PubSubHost.SubscriptionName("puller")}:acknowledge", $$"""{"ackIds":["{{AckId(pulled[0])}}"]}"""))
        using (var extended = await host.PostAsync($"{PubSubHost.SubscriptionName("puller")}:modifyAckDeadline", $$"""{"ackIds":["{{AckId(pulled[1])}}"],"ackDeadlineSeconds":60}"""))
        {
            Assert.Equal(HttpStatusCode.OK, acked.StatusCode);
            Assert.Equal(HttpStatusCode.OK, extended.StatusCode);
        }

        await host.IdleAsync();
        await host.AdvanceAsync(TimeSpan.FromSeconds(59));
        Assert.Empty(await PullAsync(host, "puller"));
        await host.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(["two"], (await PullAsync(host, "puller")).Select(Data));
    }

    [Theory]
    [InlineData("binary")]
    [InlineData("structured")]
    public async Task EventarcSubscriptionDeliversTheMessageAsACloudEvent(string mode)
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateSubscriptionAsync("eventarc", "orders", body => body["labels"] = new JsonObject { ["emulator-eventarc"] = mode });
        var id = await host.PublishAsync("orders", """{"event_id":"e-1"}""", new Dictionary<string, string> { ["origin"] = "checkout" });

        var push = await host.NextPushAsync("eventarc");

        JsonElement data;
        if (mode == "binary")
        {
            Assert.Equal("application/json", push.Header("Content-Type"));
            Assert.Equal(id, push.Header("ce-id"));
            Assert.Equal("1.0", push.Header("ce-specversion"));
            Assert.Equal("google.cloud.pubsub.topic.v1.messagePublished", push.Header("ce-type"));
            Assert.Equal($"//pubsub.googleapis.com/{PubSubHost.TopicName("orders")}", push.Header("ce-source"));
            Assert.NotNull(push.Header("ce-time"));
            data = push.Json;
        }
        else
        {
            Assert.StartsWith("application/cloudevents+json", push.Header("Content-Type"));
            Assert.Null(push.Header("ce-id"));
            var cloudEvent = push.Json;
            Assert.Equal(id, cloudEvent.GetProperty("id").GetString());
            Assert.Equal("1.0", cloudEvent.GetProperty("specversion").GetString());
            Assert.Equal("google.cloud.pubsub.topic.v1.messagePublished", cloudEvent.GetProperty("type").GetString());
            Assert.Equal($"//pubsub.googleapis.com/{PubSubHost.TopicName("orders")}", cloudEvent.GetProperty("source").GetString());
            Assert.Equal("application/json", cloudEvent.GetProperty("datacontenttype").GetString());
            data = cloudEvent.GetProperty("data");
        }

        Assert.Equal(PubSubHost.SubscriptionName("eventarc"), data.GetProperty("subscription").GetString());
        var message = data.GetProperty("message");
        Assert.Equal(id, message.GetProperty("messageId").GetString());
        Assert.Equal(id, message.GetProperty("message_id").GetString());
        Assert.Equal("checkout", message.GetProperty("attributes").GetProperty("origin").GetString());
        Assert.Equal("""{"event_id":"e-1"}""", Encoding.UTF8.GetString(Convert.FromBase64String(message.GetProperty("data").GetString()!)));
        await host.IdleAsync();
        Assert.Equal(204, Assert.Single(host.Emulator.Attempts).StatusCode);
    }

    [Fact]
    public async Task ModifyPushConfigTurnsAPushSubscriptionIntoAPullOneAndBackWithItsToken()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        var pushConfig = $$$"""{"pushEndpoint":"{{{host.PushUrl("switch")}}}","oidcToken":{"serviceAccountEmail":"pusher@test-project.iam.gserviceaccount.com","audience":"https://push.example"}}""";
        await host.CreateSubscriptionAsync("switch", "orders");

        await ModifyPushConfigAsync(host, "switch", "{}");
        await host.PublishAsync("orders", "pulled");
        await host.IdleAsync();
        Assert.Empty(host.Pushes("switch"));
        Assert.Equal(["pulled"], (await PullAsync(host, "switch")).Select(Data));

        await ModifyPushConfigAsync(host, "switch", pushConfig);
        await host.PublishAsync("orders", "pushed");
        var push = await host.NextPushAsync("switch");
        Assert.Equal("pushed", push.DataText);
        Assert.StartsWith("Bearer ", push.Header("Authorization"));
        var described = await PubSubHost.ReadOkAsync(await host.GetAsync(PubSubHost.SubscriptionName("switch")));
        Assert.Equal("https://push.example", described.GetProperty("pushConfig").GetProperty("oidcToken").GetProperty("audience").GetString());

        using var pullingAPush = await host.PostAsync($"{PubSubHost.SubscriptionName("switch")}:pull", """{"maxMessages":1}""");
        Assert.Equal(HttpStatusCode.BadRequest, pullingAPush.StatusCode);
        Assert.Equal("FAILED_PRECONDITION", (await GoogleErrors.ReadAsync(pullingAPush)).Status);
    }

    [Fact]
    public async Task PatchChangesTheMaskedFieldsOnlyAndNeedsAMask()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateSubscriptionAsync("patched", "orders", body => body["labels"] = new JsonObject { ["team"] = "checkout" });

        using var patched = await SendAsync(host, HttpMethod.Patch, PubSubHost.SubscriptionName("patched"),
            """{"subscription":{"ackDeadlineSeconds":45,"labels":{"team":"payments"},"enableMessageOrdering":true},"updateMask":"ackDeadlineSeconds,labels"}""");
        var subscription = await PubSubHost.ReadOkAsync(patched);
        Assert.Equal(45, subscription.GetProperty("ackDeadlineSeconds").GetInt32());
        Assert.Equal("payments", subscription.GetProperty("labels").GetProperty("team").GetString());
        Assert.False(subscription.TryGetProperty("enableMessageOrdering", out _), "a field outside the mask is left as it was");
        Assert.Equal(host.PushUrl("patched"), subscription.GetProperty("pushConfig").GetProperty("pushEndpoint").GetString());

        using var topic = await SendAsync(host, HttpMethod.Patch, PubSubHost.TopicName("orders"), """{"topic":{"labels":{"owner":"payments"}},"updateMask":"labels"}""");
        Assert.Equal("payments", (await PubSubHost.ReadOkAsync(topic)).GetProperty("labels").GetProperty("owner").GetString());

        using var unmasked = await SendAsync(host, HttpMethod.Patch, PubSubHost.SubscriptionName("patched"), """{"subscription":{"ackDeadlineSeconds":30}}""");
        Assert.Equal(HttpStatusCode.BadRequest, unmasked.StatusCode);
        Assert.Contains("update_mask", (await GoogleErrors.ReadAsync(unmasked)).Message);
    }

    [Fact]
    public async Task ASubscriptionsExpirationPolicyIsKeptAndShownAsPubSubShowsIt()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateSubscriptionAsync("default", "orders");
        await host.CreateSubscriptionAsync("never", "orders", body => body["expirationPolicy"] = new JsonObject());
        await host.CreateSubscriptionAsync("two-days", "orders", body => body["expirationPolicy"] = new JsonObject { ["ttl"] = "172800s" });

        // Unset: 31 days. Set without a ttl (gcloud's --expiration-period=never): never expires.
        Assert.Equal("2678400s", (await DescribeAsync("default")).GetProperty("expirationPolicy").GetProperty("ttl").GetString());
        Assert.False((await DescribeAsync("never")).GetProperty("expirationPolicy").TryGetProperty("ttl", out _));
        Assert.Equal("172800s", (await DescribeAsync("two-days")).GetProperty("expirationPolicy").GetProperty("ttl").GetString());

        using var patched = await SendAsync(host, HttpMethod.Patch, PubSubHost.SubscriptionName("two-days"),
            """{"subscription":{"expirationPolicy":{"ttl":"259200s"}},"updateMask":"expirationPolicy"}""");
        Assert.Equal("259200s", (await PubSubHost.ReadOkAsync(patched)).GetProperty("expirationPolicy").GetProperty("ttl").GetString());

        using var tooShort = await SendAsync(host, HttpMethod.Patch, PubSubHost.SubscriptionName("two-days"),
            """{"subscription":{"expirationPolicy":{"ttl":"3600s"}},"updateMask":"expirationPolicy"}""");
        Assert.Equal(HttpStatusCode.BadRequest, tooShort.StatusCode);
        Assert.Contains("at least 1 day", (await GoogleErrors.ReadAsync(tooShort)).Message);
        Assert.Equal("259200s", (await DescribeAsync("two-days")).GetProperty("expirationPolicy").GetProperty("ttl").GetString());

        async Task<JsonElement> DescribeAsync(string name) => await PubSubHost.ReadOkAsync(await host.GetAsync(PubSubHost.SubscriptionName(name)));
    }

    [Fact]
    public async Task DeletedSubscriptionReceivesNothingAndADeletedTopicLeavesItsSubscriptionsNamingDeletedTopic()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateSubscriptionAsync("kept", "orders");
        await host.CreateSubscriptionAsync("dropped", "orders");

        using (var deleted = await SendAsync(host, HttpMethod.Delete, PubSubHost.SubscriptionName("dropped"), null))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        await host.PublishAsync("orders", "after");
        await host.NextPushAsync("kept");
        await host.IdleAsync();
        Assert.Empty(host.Pushes("dropped"));
        using (var gone = await host.GetAsync(PubSubHost.SubscriptionName("dropped")))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        using (var deletedTopic = await SendAsync(host, HttpMethod.Delete, PubSubHost.TopicName("orders"), null))
        {
            Assert.Equal(HttpStatusCode.OK, deletedTopic.StatusCode);
        }

        Assert.Equal("_deleted-topic_", (await PubSubHost.ReadOkAsync(await host.GetAsync(PubSubHost.SubscriptionName("kept")))).GetProperty("topic").GetString());
        using var publish = await host.PostAsync($"{PubSubHost.TopicName("orders")}:publish", """{"messages":[{"data":"YQ=="}]}""");
        Assert.Equal(HttpStatusCode.NotFound, publish.StatusCode);
    }

    private static async Task CreatePullSubscriptionAsync(PubSubHost host, string id, string topic, string extraJson)
    {
        using var response = await host.PutAsync(PubSubHost.SubscriptionName(id), $$"""{"topic":"{{PubSubHost.TopicName(topic)}}"{{extraJson}}}""");
        await PubSubHost.EnsureSuccessAsync(response);
    }

    private static async Task<IReadOnlyList<JsonElement>> PullAsync(PubSubHost host, string subscription)
    {
        var response = await PubSubHost.ReadOkAsync(await host.PostAsync($"{PubSubHost.SubscriptionName(subscription)}:pull", """{"maxMessages":10,"returnImmediately":true}"""));
        return response.TryGetProperty("receivedMessages", out var received) ? [.. received.EnumerateArray()] : [];
    }

    private static async Task NackAsync(PubSubHost host, JsonElement received)
    {
        using var response = await host.PostAsync(
            $"{PubSubHost.SubscriptionName("puller")}:modifyAckDeadline", $$"""{"ackIds":["{{AckId(received)}}"],"ackDeadlineSeconds":0}""");
        await PubSubHost.EnsureSuccessAsync(response);
    }

    private static async Task ModifyPushConfigAsync(PubSubHost host, string subscription, string pushConfig)
    {
        using var response = await host.PostAsync($"{PubSubHost.SubscriptionName(subscription)}:modifyPushConfig", $$"""{"pushConfig":{{pushConfig}}}""");
        await PubSubHost.EnsureSuccessAsync(response);
    }

    private static string AckId(JsonElement received) => received.GetProperty("ackId").GetString()!;

    private static string Data(JsonElement received) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(received.GetProperty("message").GetProperty("data").GetString()!));

    private static Task<HttpResponseMessage> SendAsync(PubSubHost host, HttpMethod method, string path, string? json) =>
        host.Http.SendAsync(new HttpRequestMessage(method, $"/emulators/pubsub/v1/{path}")
        {
            Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"),
        });
}
