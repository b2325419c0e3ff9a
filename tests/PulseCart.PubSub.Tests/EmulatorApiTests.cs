using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.PubSub;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.PubSub.Tests;

/// <summary>The REST subset as Google's clients use it: what it accepts, what it answers, and its errors.</summary>
public sealed class EmulatorApiTests
{
    private const string IntEnums = "?$alt=json;enum-encoding=int";

    [Fact]
    public async Task RequestsAreReadTheWayGoogleClientsWriteThemAndEnumsComeBackAsAsked()
    {
        await using var host = await PubSubHost.StartAsync();
        var topic = PubSubHost.TopicName("orders");

        using var createdTopic = await host.PutAsync(topic + IntEnums, """{"labels":{"team":"checkout"},"state":1,"someFutureField":{"nested":[1,2]}}""");
        var topicJson = await PubSubHost.ReadOkAsync(createdTopic);
        Assert.Equal(JsonValueKind.Number, topicJson.GetProperty("state").ValueKind);
        Assert.Equal(1, topicJson.GetProperty("state").GetInt32());
        Assert.Equal("checkout", topicJson.GetProperty("labels").GetProperty("team").GetString());

        // snake_case names, an integer as a string, a state by name, a zero meaning "default", fields the emulator ignores.
        using var createdSubscription = await host.PutAsync(PubSubHost.SubscriptionName("mixed") + IntEnums, $$$"""
            {"topic":"{{{topic}}}",
             "push_config":{"push_endpoint":"{{{host.PushUrl("mixed")}}}","oidc_token":{"service_account_email":"p@x.iam.gserviceaccount.com"},"attributes":{"x-goog-version":"v1"}},
             "ack_deadline_seconds":"20","state":"ACTIVE","retryPolicy":{"minimumBackoff":"5s"},
             "deadLetterPolicy":{"deadLetterTopic":"{{{topic}}}","maxDeliveryAttempts":0},
             "expirationPolicy":{"ttl":"86400s"},"retainAckedMessages":false,"brandNewField":true}
            """);
        var subscription = await PubSubHost.ReadOkAsync(createdSubscription);
        Assert.Equal(1, subscription.GetProperty("state").GetInt32());
        Assert.Equal(20, subscription.GetProperty("ackDeadlineSeconds").GetInt32());
        Assert.Equal("5s", subscription.GetProperty("retryPolicy").GetProperty("minimumBackoff").GetString());
        Assert.Equal("600s", subscription.GetProperty("retryPolicy").GetProperty("maximumBackoff").GetString());
        Assert.Equal(5, subscription.GetProperty("deadLetterPolicy").GetProperty("maxDeliveryAttempts").GetInt32());
        Assert.Equal("p@x.iam.gserviceaccount.com", subscription.GetProperty("pushConfig").GetProperty("oidcToken").GetProperty("serviceAccountEmail").GetString());

        using var numbered = await host.PutAsync(PubSubHost.SubscriptionName("numbered"), $$"""
            {"topic":"{{topic}}","pushConfig":{"pushEndpoint":"{{host.PushUrl("numbered")}}"},"state":2,"ackDeadlineSeconds":30}
            """);
        var byName = await PubSubHost.ReadOkAsync(numbered);
        Assert.Equal("ACTIVE", byName.GetProperty("state").GetString());
        Assert.False(byName.TryGetProperty("retryPolicy", out _), "an unset retry policy is left out, as Pub/Sub does");

        var fetched = await PubSubHost.ReadOkAsync(await host.GetAsync(PubSubHost.SubscriptionName("mixed")));
        Assert.Equal("ACTIVE", fetched.GetProperty("state").GetString());
        Assert.Equal(PubSubHost.SubscriptionName("mixed"), fetched.GetProperty("name").GetString());
        Assert.Equal(topic, fetched.GetProperty("topic").GetString());
        Assert.Equal("604800s", fetched.GetProperty("messageRetentionDuration").GetString());

        var listed = await PubSubHost.ReadOkAsync(await host.GetAsync($"{topic}/subscriptions"));
        Assert.Equal([PubSubHost.SubscriptionName("mixed"), PubSubHost.SubscriptionName("numbered")], listed.GetProperty("subscriptions").EnumerateArray().Select(name => name.GetString()));
    }

    [Fact]
    public async Task PublishAcceptsCurlsFormContentTypeUrlSafeBase64AndAttributeOnlyMessages()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes("ü?>")).Replace('+', '-').Replace('/', '_').TrimEnd('=');

        using var response = await host.Http.PostAsync(
            $"/emulators/pubsub/v1/{PubSubHost.TopicName("orders")}:publish",
            new StringContent($$$"""{"messages":[{"data":"{{{data}}}"},{"attributes":{"kind":"ping"}},{"data":"YQ==","orderingKey":"k","messageId":"ignored"}]}""", Encoding.UTF8, "application/x-www-form-urlencoded"));

        var ids = (await PubSubHost.ReadOkAsync(response)).GetProperty("messageIds").EnumerateArray().Select(id => id.GetString()!).ToList();
        Assert.Equal(3, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(long.TryParse(id, out _), $"{id} is numeric like Pub/Sub's ids"));
        var kept = host.Emulator.MessagesOf(PubSubHost.TopicName("orders"));
        Assert.Equal(ids, kept.Select(message => message.MessageId));
        Assert.Equal("ü?>", Encoding.UTF8.GetString(kept[0].Data.Span));
        Assert.Equal("ping", kept[1].Attributes["kind"]);
        Assert.Equal("k", kept[2].OrderingKey);
    }

    [Fact]
    public async Task LabelsAreHeldToGooglesLimitsSoAResourceStaysSmall()
    {
        await using var host = await PubSubHost.StartAsync();
        var labels = (int count) => JsonSerializer.Serialize(new { labels = Enumerable.Range(0, count).ToDictionary(i => $"k{i}", _ => "v") });

        using var allowed = await host.PutAsync(PubSubHost.TopicName("sixty-four"), labels(64));
        using var refused = await host.PutAsync(PubSubHost.TopicName("sixty-five"), labels(65));

        using var international = await host.PutAsync(PubSubHost.TopicName("international"), """{"labels":{"日本":"東京","env":"prod-1"}}""");
        using var lineBreak = await host.PutAsync(PubSubHost.TopicName("line-break"), """{"labels":{"env\n":"prod"}}""");

        Assert.Equal(64, (await PubSubHost.ReadOkAsync(allowed)).GetProperty("labels").EnumerateObject().Count());
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("at most 64", (await GoogleErrors.ReadAsync(refused)).Message);
        Assert.Equal("東京", (await PubSubHost.ReadOkAsync(international)).GetProperty("labels").GetProperty("日本").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, lineBreak.StatusCode);
    }

    [Fact]
    public async Task ATopicKeepsItsNewestMessagesForListingWithinItsByteBound()
    {
        await using var host = await PubSubHost.StartAsync(new Dictionary<string, string?> { ["PulseCart:Emulators:PubSub:RetainedBytesPerTopic"] = "1000" });
        await host.CreateTopicAsync("orders");
        var data = Convert.ToBase64String(new byte[400]);
        for (var message = 0; message < 5; message++)
        {
            (await host.PostAsync($"{PubSubHost.TopicName("orders")}:publish", $$"""{"messages":[{"data":"{{data}}"}]}""")).EnsureSuccessStatusCode();
        }

        var listed = await PubSubHost.ReadOkAsync(await host.GetAsync($"{PubSubHost.TopicName("orders")}/messages"));

        Assert.Equal(2, listed.GetProperty("messages").GetArrayLength());
    }

    [Fact]
    public async Task APublishOverTenMegabytesIsRefusedAsPubSubRefusesIt()
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        var justUnder = Convert.ToBase64String(new byte[10 * 1024 * 1024 - 100]);
        var over = Convert.ToBase64String(new byte[10 * 1024 * 1024 + 1]);

        using var accepted = await host.PostAsync($"{PubSubHost.TopicName("orders")}:publish", $$"""{"messages":[{"data":"{{justUnder}}"}]}""");
        using var refused = await host.PostAsync($"{PubSubHost.TopicName("orders")}:publish", $$"""{"messages":[{"data":"{{over}}"}]}""");

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var error = await GoogleErrors.ReadAsync(refused);
        Assert.Equal("INVALID_ARGUMENT", error.Status);
        Assert.Contains("Request payload size exceeds the limit: 10485760 bytes", error.Message);
        Assert.Single(host.Emulator.MessagesOf(PubSubHost.TopicName("orders")));
    }

    [Theory]
    [InlineData("GET", "projects/test-project/topics/missing", null, 404, "NOT_FOUND", "resource=missing")]
    [InlineData("GET", "projects/test-project/subscriptions/missing", null, 404, "NOT_FOUND", "resource=missing")]
    [InlineData("PUT", "projects/test-project/topics/orders", "{}", 409, "ALREADY_EXISTS", "resource=orders")]
    [InlineData("PUT", "projects/test-project/topics/goog-reserved", "{}", 400, "INVALID_ARGUMENT", "goog")]
    [InlineData("PUT", "projects/test-project/topics/ab", "{}", 400, "INVALID_ARGUMENT", "3 to 255")]
    [InlineData("PUT", "projects/test-project/topics/labelled", """{"labels":{"A B":"v"}}""", 400, "INVALID_ARGUMENT", "label 'A B'")]
    [InlineData("PUT", "projects/test-project/topics/retained", """{"messageRetentionDuration":"-5s"}""", 400, "INVALID_ARGUMENT", "10 minutes and 31 days")]
    [InlineData("PUT", "projects/test-project/subscriptions/labelled", """{"topic":"projects/test-project/topics/orders","labels":{"team":"Checkout Team"}}""", 400, "INVALID_ARGUMENT", "label 'team'")]
    [InlineData("POST", "projects/test-project/topics/missing:publish", """{"messages":[{"data":"YQ=="}]}""", 404, "NOT_FOUND", "resource=missing")]
    [InlineData("POST", "projects/test-project/topics/orders:publish", """{"messages":[{"data":"%%%"}]}""", 400, "INVALID_ARGUMENT", "base64")]
    [InlineData("POST", "projects/test-project/topics/orders:publish", """{"messages":[]}""", 400, "INVALID_ARGUMENT", "at least one message")]
    [InlineData("POST", "projects/test-project/topics/orders:publish", """{"messages":[{}]}""", 400, "INVALID_ARGUMENT", "neither data nor attributes")]
    [InlineData("POST", "projects/test-project/topics/orders:publish", """{"messages":[{"data":"YQ==","attributes":{"googthing":"x"}}]}""", 400, "INVALID_ARGUMENT", "reserved")]
    [InlineData("POST", "projects/test-project/topics/orders:publish", """{"messages":""", 400, "INVALID_ARGUMENT", "Invalid JSON payload")]
    [InlineData("POST", "projects/test-project/topics/orders:frobnicate", "{}", 404, "NOT_FOUND", "orders:frobnicate is not a method of the Pub/Sub twin")]
    [InlineData("GET", "projects/test-project/nothing-here", null, 404, "NOT_FOUND", "is not a method of the Pub/Sub twin")]
    [InlineData("POST", "projects/test-project/subscriptions/missing:pull", """{"maxMessages":1}""", 404, "NOT_FOUND", "resource=missing")]
    [InlineData("POST", "projects/test-project/subscriptions/missing:pull", "{}", 400, "INVALID_ARGUMENT", "max_messages")]
    [InlineData("PUT", "projects/test-project/subscriptions/short-deadline", """{"topic":"projects/test-project/topics/orders","pushConfig":{"pushEndpoint":"http://127.0.0.1:1/p"},"ackDeadlineSeconds":5}""", 400, "INVALID_ARGUMENT", "10 and 600")]
    [InlineData("PUT", "projects/test-project/subscriptions/few-attempts", """{"topic":"projects/test-project/topics/orders","pushConfig":{"pushEndpoint":"http://127.0.0.1:1/p"},"deadLetterPolicy":{"deadLetterTopic":"projects/test-project/topics/orders","maxDeliveryAttempts":3}}""", 400, "INVALID_ARGUMENT", "5 and 100")]
    [InlineData("PUT", "projects/test-project/subscriptions/long-backoff", """{"topic":"projects/test-project/topics/orders","pushConfig":{"pushEndpoint":"http://127.0.0.1:1/p"},"retryPolicy":{"minimumBackoff":"700s"}}""", 400, "INVALID_ARGUMENT", "600 seconds")]
    [InlineData("PUT", "projects/test-project/subscriptions/no-dead-letter-topic", """{"topic":"projects/test-project/topics/orders","pushConfig":{"pushEndpoint":"http://127.0.0.1:1/p"},"deadLetterPolicy":{"deadLetterTopic":"projects/test-project/topics/nowhere"}}""", 404, "NOT_FOUND", "resource=nowhere")]
    [InlineData("PUT", "projects/test-project/subscriptions/ftp", """{"topic":"projects/test-project/topics/orders","pushConfig":{"pushEndpoint":"ftp://127.0.0.1/p"}}""", 400, "INVALID_ARGUMENT", "absolute http or https URL")]
    [InlineData("PUT", "projects/test-project/subscriptions/no-topic", """{"topic":"projects/test-project/topics/nowhere","pushConfig":{"pushEndpoint":"http://127.0.0.1:1/p"}}""", 404, "NOT_FOUND", "resource=nowhere")]
    [InlineData("PUT", "projects/test-project/subscriptions/bad-duration", """{"topic":"projects/test-project/topics/orders","messageRetentionDuration":"a week"}""", 400, "INVALID_ARGUMENT", "Invalid JSON payload")]
    [InlineData("PUT", "projects/test-project/subscriptions/bad-int", """{"topic":"projects/test-project/topics/orders","pushConfig":{"pushEndpoint":"http://127.0.0.1:1/p"},"ackDeadlineSeconds":"soon"}""", 400, "INVALID_ARGUMENT", "Invalid JSON payload")]
    [InlineData("PUT", "projects/test-project/subscriptions/filtered", """{"topic":"projects/test-project/topics/orders","pushConfig":{"pushEndpoint":"http://127.0.0.1:1/p"},"filter":"attributes.x = \"1\""}""", 400, "INVALID_ARGUMENT", "filter")]
    public async Task InvalidRequestsGetGooglesErrorShape(string method, string path, string? body, int code, string status, string messagePart)
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/emulators/pubsub/v1/{path}");
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await host.Http.SendAsync(request);

        Assert.Equal(code, (int)response.StatusCode);
        var error = await GoogleErrors.ReadAsync(response);
        Assert.Equal((code, status), (error.Code, error.Status));
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfiguredTopicsAndSubscriptionsExistAtStartAndDeliver()
    {
        await using var host = await PubSubHost.StartAsync(new Dictionary<string, string?>
        {
            ["PulseCart:Emulators:PubSub:Topics:0"] = PubSubHost.TopicName("events"),
            ["PulseCart:Emulators:PubSub:Topics:1"] = PubSubHost.TopicName("events-dead"),
            ["PulseCart:Emulators:PubSub:Subscriptions:0:Name"] = PubSubHost.SubscriptionName("configured"),
            ["PulseCart:Emulators:PubSub:Subscriptions:0:Topic"] = PubSubHost.TopicName("events"),
            ["PulseCart:Emulators:PubSub:Subscriptions:0:PushEndpoint"] = "http://127.0.0.1:9/not-yet-known",
            ["PulseCart:Emulators:PubSub:Subscriptions:0:AckDeadlineSeconds"] = "30",
            ["PulseCart:Emulators:PubSub:Subscriptions:0:OidcToken:ServiceAccountEmail"] = "pusher@test-project.iam.gserviceaccount.com",
            ["PulseCart:Emulators:PubSub:Subscriptions:0:DeadLetterPolicy:DeadLetterTopic"] = PubSubHost.TopicName("events-dead"),
            ["PulseCart:Emulators:PubSub:Subscriptions:0:DeadLetterPolicy:MaxDeliveryAttempts"] = "7",
        });

        var subscription = await PubSubHost.ReadOkAsync(await host.GetAsync(PubSubHost.SubscriptionName("configured")));
        Assert.Equal(30, subscription.GetProperty("ackDeadlineSeconds").GetInt32());
        Assert.Equal(7, subscription.GetProperty("deadLetterPolicy").GetProperty("maxDeliveryAttempts").GetInt32());
        Assert.Equal("10s", subscription.GetProperty("retryPolicy").GetProperty("minimumBackoff").GetString());
        Assert.Equal("pusher@test-project.iam.gserviceaccount.com", subscription.GetProperty("pushConfig").GetProperty("oidcToken").GetProperty("serviceAccountEmail").GetString());
        var topics = await PubSubHost.ReadOkAsync(await host.GetAsync($"projects/{PubSubHost.Project}/topics"));
        Assert.Equal(
            [PubSubHost.TopicName("events"), PubSubHost.TopicName("events-dead")],
            topics.GetProperty("topics").EnumerateArray().Select(topic => topic.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("Subscriptions:0:AckDeadlineSeconds", "5", "Subscriptions:0:AckDeadlineSeconds must be between 10 and 600")]
    [InlineData("Subscriptions:0:Topic", "projects/test-project/topics/unknown", "is not among the configured topics")]
    [InlineData("Subscriptions:0:DeadLetterPolicy:MaxDeliveryAttempts", "101", "MaxDeliveryAttempts must be between 5 and 100")]
    [InlineData("PathPrefix", "/emulators/pubsub/", "PathPrefix must be empty (the root) or start with '/' and not end with one")]
    public async Task InvalidSettingsStopTheStartWithAMessageNamingTheSetting(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["PulseCart:Emulators:PubSub:Topics:0"] = PubSubHost.TopicName("events"),
            ["PulseCart:Emulators:PubSub:Subscriptions:0:Name"] = PubSubHost.SubscriptionName("configured"),
            ["PulseCart:Emulators:PubSub:Subscriptions:0:Topic"] = PubSubHost.TopicName("events"),
            ["PulseCart:Emulators:PubSub:Subscriptions:0:PushEndpoint"] = "http://127.0.0.1:9/push",
            ["PulseCart:Emulators:PubSub:Subscriptions:0:DeadLetterPolicy:DeadLetterTopic"] = PubSubHost.TopicName("events"),
            [$"PulseCart:Emulators:PubSub:{key}"] = value,
        };

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => PubSubHost.StartAsync(settings));
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }
}
