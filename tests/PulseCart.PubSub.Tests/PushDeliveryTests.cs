using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PulseCart.Emulators.PubSub;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.PubSub.Tests;

/// <summary>Publish → push → ack or nack, over real HTTP, with the emulator's clock in the test's hands.</summary>
public sealed class PushDeliveryTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task PublishedMessageIsPushedInTheWrappedEnvelopeAndAnAckEndsIt()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateSubscriptionAsync("wrapped", "orders");
        var publishedAt = host.Clock.GetUtcNow();

        var id = await host.PublishAsync("orders", """{"event_id":"e-1"}""", new Dictionary<string, string> { ["origin"] = "checkout" }, orderingKey: "cart-9");

        var push = await host.NextPushAsync("wrapped");
        Assert.Equal("application/json", push.Header("Content-Type"));
        Assert.StartsWith("APIs-Google", push.Header("User-Agent"));
        Assert.Null(push.Header("Authorization"));
        var message = push.Message;
        Assert.Equal("""{"event_id":"e-1"}""", push.DataText);
        Assert.Equal("checkout", message.GetProperty("attributes").GetProperty("origin").GetString());
        Assert.Equal(id, message.GetProperty("messageId").GetString());
        Assert.Equal(id, message.GetProperty("message_id").GetString());
        var publishTime = message.GetProperty("publishTime").GetString()!;
        Assert.Equal(publishTime, message.GetProperty("publish_time").GetString());
        Assert.Equal(publishedAt, DateTimeOffset.Parse(publishTime, System.Globalization.CultureInfo.InvariantCulture));
        Assert.EndsWith("Z", publishTime);
        Assert.Equal("cart-9", message.GetProperty("orderingKey").GetString());
        Assert.Equal(PubSubHost.SubscriptionName("wrapped"), push.Json.GetProperty("subscription").GetString());
        Assert.False(push.Json.TryGetProperty("deliveryAttempt", out _), "deliveryAttempt is sent only with a dead-letter policy");

        await host.IdleAsync();
        await host.AdvanceAsync(TimeSpan.FromMinutes(15));
        Assert.Single(host.Pushes("wrapped"));
        var attempt = Assert.Single(host.Emulator.Attempts);
        Assert.Equal((PushAttemptOutcome.Acknowledged, 204, 1), (attempt.Outcome, attempt.StatusCode, attempt.DeliveryAttempt));
    }

    [Fact]
    public async Task EndpointFailingTwiceGetsThreeDeliveriesWithGrowingGapsAndCountedAttempts()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateTopicAsync("orders-dead");
        host.Script("flaky", n => n < 2 ? 500 : 204);
        await host.CreateSubscriptionAsync("flaky", "orders", WithDeadLetter("orders-dead", 5, minimumBackoff: "10s", maximumBackoff: "600s"));

        await host.PublishAsync("orders", "m");
        var first = await host.NextPushAsync("flaky");
        await host.IdleAsync();

        await host.AdvanceAsync(9 * Second);
        Assert.Single(host.Pushes("flaky"));
        await host.AdvanceAsync(Second);
        var second = await host.NextPushAsync("flaky");
        await host.IdleAsync();

        await host.AdvanceAsync(19 * Second);
        Assert.Equal(2, host.Pushes("flaky").Count);
        await host.AdvanceAsync(Second);
        var third = await host.NextPushAsync("flaky");
        await host.IdleAsync();

        Assert.Equal([1, 2, 3], new[] { first, second, third }.Select(push => push.Json.GetProperty("deliveryAttempt").GetInt32()));
        Assert.Equal(10 * Second, second.ReceivedAt - first.ReceivedAt);
        Assert.Equal(20 * Second, third.ReceivedAt - second.ReceivedAt);
        Assert.Equal(
            [PushAttemptOutcome.WillRetry, PushAttemptOutcome.WillRetry, PushAttemptOutcome.Acknowledged],
            host.Emulator.Attempts.Select(attempt => attempt.Outcome));

        await host.AdvanceAsync(TimeSpan.FromMinutes(30));
        Assert.Equal(3, host.Pushes("flaky").Count);
        Assert.Empty(await DeadLettersAsync(host, "orders-dead"));
    }

    [Fact]
    public async Task AlwaysFailingEndpointSendsTheMessageToTheDeadLetterTopicAfterMaxDeliveryAttempts()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateTopicAsync("orders-dead");
        host.Script("broken", _ => 503);
        await host.CreateSubscriptionAsync("broken", "orders", WithDeadLetter("orders-dead", 5, minimumBackoff: "10s", maximumBackoff: "600s"));

        var id = await host.PublishAsync("orders", "poison", new Dictionary<string, string> { ["origin"] = "checkout" });
        await host.NextPushAsync("broken");
        await host.IdleAsync();
        foreach (var gap in new[] { 10, 20, 40, 80 })
        {
            await host.AdvanceAsync(TimeSpan.FromSeconds(gap));
        }

        Assert.Equal([1, 2, 3, 4, 5], host.Pushes("broken").Select(push => push.Json.GetProperty("deliveryAttempt").GetInt32()));
        Assert.Equal(PushAttemptOutcome.DeadLettered, host.Emulator.Attempts[^1].Outcome);

        var deadLetter = Assert.Single(await DeadLettersAsync(host, "orders-dead"));
        Assert.Equal("poison", Encoding.UTF8.GetString(Convert.FromBase64String(deadLetter.GetProperty("data").GetString()!)));
        Assert.NotEqual(id, deadLetter.GetProperty("messageId").GetString());
        var attributes = deadLetter.GetProperty("attributes");
        Assert.Equal("checkout", attributes.GetProperty("origin").GetString());
        Assert.Equal("5", attributes.GetProperty("CloudPubSubDeadLetterSourceDeliveryCount").GetString());
        Assert.Equal("broken", attributes.GetProperty("CloudPubSubDeadLetterSourceSubscription").GetString());
        Assert.Equal(PubSubHost.Project, attributes.GetProperty("CloudPubSubDeadLetterSourceSubscriptionProject").GetString());

        await host.AdvanceAsync(TimeSpan.FromMinutes(30));
        Assert.Equal(5, host.Pushes("broken").Count);
    }

    [Fact]
    public async Task EndpointThatDoesNotAnswerWithinTheAckDeadlineGetsTheMessageAgain()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        host.Script("slow", n => n == 0 ? PubSubHost.Hang : 204);
        await host.CreateSubscriptionAsync("slow", "orders", body => body["ackDeadlineSeconds"] = 20);

        await host.PublishAsync("orders", "m");
        await host.NextPushAsync("slow");

        // Still inside the 20 s deadline: nothing has been decided yet.
        host.Clock.Advance(19 * Second);
        await Task.Delay(100);
        Assert.Empty(host.Emulator.Attempts);

        await host.AdvanceAsync(Second);
        var timedOut = Assert.Single(host.Emulator.Attempts);
        Assert.Equal((PushAttemptOutcome.WillRetry, null, "DEADLINE_EXCEEDED"), (timedOut.Outcome, timedOut.StatusCode, timedOut.Error));

        await host.AdvanceAsync(9 * Second);
        Assert.Single(host.Pushes("slow"));
        await host.AdvanceAsync(Second);
        var retried = await host.NextPushAsync("slow");
        await host.IdleAsync();
        Assert.Equal(PushAttemptOutcome.Acknowledged, host.Emulator.Attempts[^1].Outcome);
        Assert.Equal(host.Pushes("slow")[0].Message.GetProperty("messageId").GetString(), retried.Message.GetProperty("messageId").GetString());
    }

    [Fact]
    public async Task PushTokenVerifiesAgainstTheServedKeysWithTheSubscriptionsAudienceAndAccount()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        const string Account = "pusher@test-project.iam.gserviceaccount.com";
        await host.CreateSubscriptionAsync("explicit", "orders", body => body["pushConfig"]!["oidcToken"] = new JsonObject
        {
            ["serviceAccountEmail"] = Account,
            ["audience"] = "https://consumer.example/push",
        });
        await host.CreateSubscriptionAsync("implicit", "orders", body => body["pushConfig"]!["oidcToken"] = new JsonObject { ["serviceAccountEmail"] = Account });

        await host.PublishAsync("orders", "m");
        var explicitPush = await host.NextPushAsync("explicit");
        var implicitPush = await host.NextPushAsync("implicit");

        var keys = new JsonWebKeySet(await host.Http.GetStringAsync("/emulators/oidc/certs")).GetSigningKeys();
        foreach (var (push, audience) in new[] { (explicitPush, "https://consumer.example/push"), (implicitPush, host.PushUrl("implicit")) })
        {
            var authorization = push.Header("Authorization")!;
            Assert.StartsWith("Bearer ", authorization);
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(authorization["Bearer ".Length..], new TokenValidationParameters
            {
                ValidIssuer = "https://accounts.google.com",
                ValidAudience = audience,
                IssuerSigningKeys = keys,
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            });
            Assert.True(result.IsValid, result.Exception?.Message);
            Assert.Equal(Account, result.Claims["email"]);
            Assert.Equal(true, result.Claims["email_verified"]);
        }

        // The same token must not pass for another audience: the check above is not vacuous.
        var wrongAudience = await new JsonWebTokenHandler().ValidateTokenAsync(explicitPush.Header("Authorization")!["Bearer ".Length..], new TokenValidationParameters
        {
            ValidIssuer = "https://accounts.google.com",
            ValidAudience = host.PushUrl("explicit"),
            IssuerSigningKeys = keys,
        });
        Assert.False(wrongAudience.IsValid);
    }

    [Fact]
    public async Task NoWrapperPushesTheRawDataWithMetadataHeadersOnlyWhenAskedFor()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateSubscriptionAsync("raw-meta", "orders", body => body["pushConfig"]!["noWrapper"] = new JsonObject { ["writeMetadata"] = true });
        await host.CreateSubscriptionAsync("raw", "orders", body => body["pushConfig"]!["noWrapper"] = new JsonObject());

        var id = await host.PublishAsync("orders", """{"event_id":"e-2"}""", new Dictionary<string, string> { ["origin"] = "checkout", ["note"] = "café €" }, orderingKey: "cart-1");
        var withMetadata = await host.NextPushAsync("raw-meta");
        var bare = await host.NextPushAsync("raw");

        foreach (var push in new[] { withMetadata, bare })
        {
            Assert.Equal("""{"event_id":"e-2"}""", Encoding.UTF8.GetString(push.Body));
        }

        Assert.Equal(id, withMetadata.Header("x-goog-pubsub-message-id"));
        Assert.Equal(PubSubHost.SubscriptionName("raw-meta"), withMetadata.Header("x-goog-pubsub-subscription-name"));
        Assert.Equal("cart-1", withMetadata.Header("x-goog-pubsub-ordering-key"));
        Assert.EndsWith("Z", withMetadata.Header("x-goog-pubsub-publish-time"));
        Assert.Equal("checkout", withMetadata.Header("origin"));
        Assert.Equal("café €", withMetadata.Header("note"));
        Assert.DoesNotContain(bare.Headers.Keys, header => header.StartsWith("x-goog-pubsub-", StringComparison.OrdinalIgnoreCase));
        Assert.Null(bare.Header("origin"));
    }

    [Fact]
    public async Task OrderedSubscriptionHoldsALaterMessageWithTheSameKeyUntilTheEarlierOneIsAcknowledged()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        var firstSeen = 0;
        host.Script("ordered", (_, push) => push.DataText == "first" && Interlocked.Increment(ref firstSeen) == 1 ? 500 : 204);
        await host.CreateSubscriptionAsync("ordered", "orders", body => body["enableMessageOrdering"] = true);

        await host.PublishAsync("orders", "first", orderingKey: "cart-1");
        await host.PublishAsync("orders", "second", orderingKey: "cart-1");
        await host.PublishAsync("orders", "other", orderingKey: "cart-2");
        await host.NextPushAsync("ordered");
        await host.NextPushAsync("ordered");
        await host.IdleAsync();
        Assert.Equal(["first", "other"], host.Pushes("ordered").Select(push => push.DataText).Order());

        await host.AdvanceAsync(10 * Second);
        Assert.Equal(["first", "second"], host.Pushes("ordered").Skip(2).Select(push => push.DataText));
    }

    [Fact]
    public async Task SubscriptionGetsOnlyMessagesPublishedAfterItWasCreated()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.PublishAsync("orders", "before");
        await host.CreateSubscriptionAsync("late", "orders");
        await host.PublishAsync("orders", "after");

        await host.NextPushAsync("late");
        await host.IdleAsync();
        Assert.Equal(["after"], host.Pushes("late").Select(push => push.DataText));
    }

    private static Action<JsonObject> WithDeadLetter(string topicId, int maxDeliveryAttempts, string minimumBackoff, string maximumBackoff) => body =>
    {
        body["deadLetterPolicy"] = new JsonObject { ["deadLetterTopic"] = PubSubHost.TopicName(topicId), ["maxDeliveryAttempts"] = maxDeliveryAttempts };
        body["retryPolicy"] = new JsonObject { ["minimumBackoff"] = minimumBackoff, ["maximumBackoff"] = maximumBackoff };
    };

    private static async Task<IReadOnlyList<JsonElement>> DeadLettersAsync(PubSubHost host, string topicId)
    {
        using var response = await host.GetAsync($"{PubSubHost.TopicName(topicId)}/messages");
        await PubSubHost.EnsureSuccessAsync(response);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.TryGetProperty("messages", out var messages) ? [.. messages.EnumerateArray()] : [];
    }
}
