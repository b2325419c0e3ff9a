using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PulseCart.Consumer.Emulators;
using PulseCart.OfficialClients.Tests.Support;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.OfficialClients.Tests;

/// <summary>
/// @google-cloud/tasks 7.1.0 and @google-cloud/pubsub 6.3.0, unchanged but for their endpoint options, over gRPC (their
/// default) and REST (<c>fallback: true</c>, which asks for numeric enums).
/// </summary>
public sealed class NodeClientTests
{
    [Theory]
    [InlineData("grpc")]
    [InlineData("rest")]
    public async Task QueueAndTaskLifecycleDispatchesToTheHandlerWithCloudTasksHeadersAndAToken(string mode)
    {
        await using var twins = await Twins.StartAsync();
        var environment = Tools.NodeEnvironment(twins.TasksGrpcPort, twins.TasksRestPort, twins.PubSubGrpcPort, twins.PubSubRestPort);
        environment["CALLBACK_URL"] = $"{twins.BaseUrl}/record/tasks";

        var run = (await Tools.NodeAsync("tasks", mode, environment)).Succeeded();

        var steps = run.Steps;
        Assert.Equal("RUNNING", steps["queue created"].GetProperty("state").GetString());
        Assert.Equal(5, steps["queue created"].GetProperty("maxAttempts").GetInt32());
        Assert.Equal("FULL", steps["task created"].GetProperty("view").GetString());
        Assert.Equal($$"""{"hello":"{{mode}}"}""", steps["task created"].GetProperty("body").GetString());
        Assert.Equal("PAUSED", steps["queue paused"].GetProperty("state").GetString());
        Assert.Single(steps["task held while paused"].GetProperty("tasks").EnumerateArray());
        Assert.True(steps["task run in a paused queue"].GetProperty("gone").GetBoolean());
        Assert.Equal(0, steps["queue purged"].GetProperty("tasks").GetInt32());
        Assert.Equal("RUNNING", steps["queue resumed"].GetProperty("state").GetString());
        Assert.Equal(9, steps["queue updated"].GetProperty("maxAttempts").GetInt32());
        Assert.Equal(1, steps["queue updated"].GetProperty("minBackoff").GetInt32());
        Assert.True(steps["queue deleted"].GetProperty("gone").GetBoolean());

        var dispatched = await twins.WaitForAsync(request => request.Header("X-CloudTasks-TaskName") == $"first-{mode}");
        Assert.Equal($"node-{mode}", dispatched.Header("X-CloudTasks-QueueName"));
        Assert.Equal("0", dispatched.Header("X-CloudTasks-TaskRetryCount"));
        Assert.Equal("0", dispatched.Header("X-CloudTasks-TaskExecutionCount"));
        Assert.NotNull(dispatched.Header("X-CloudTasks-TaskETA"));
        Assert.Equal("Google-Cloud-Tasks", dispatched.Header("User-Agent"));
        Assert.Equal($$"""{"hello":"{{mode}}"}""", dispatched.Body);
        var token = await TokenAsync(twins, dispatched, "https://audience.example");
        Assert.Equal("tasks@pulsecart-local.iam.gserviceaccount.com", token.GetClaim("email").Value);

        // The task run in the paused queue reached the handler; the purged one never did.
        await twins.WaitForAsync(request => request.Header("X-CloudTasks-TaskName") == $"held-{mode}");
        Assert.DoesNotContain(twins.Recorded, request => request.Header("X-CloudTasks-TaskName") == $"purged-{mode}");
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("rest")]
    public async Task PullSubscriptionDeliversAcknowledgesAndSwitchesBetweenPushAndPull(string mode)
    {
        await using var twins = await Twins.StartAsync();
        var environment = Tools.NodeEnvironment(twins.TasksGrpcPort, twins.TasksRestPort, twins.PubSubGrpcPort, twins.PubSubRestPort);
        environment["PUSH_URL"] = $"{twins.BaseUrl}/record/push";

        var steps = (await Tools.NodeAsync("pull", mode, environment)).Succeeded().Steps;

        Assert.Equal("", steps["pull subscription created"].GetProperty("pushEndpoint").GetString());
        Assert.Equal(["first"], steps["pulled"].GetProperty("data").EnumerateArray().Select(data => data.GetString()));
        Assert.Equal(0, steps["acknowledged"].GetProperty("left").GetInt32());
        if (mode == "grpc")
        {
            Assert.Equal("streamed", steps["streamed and acked"].GetProperty("data").GetString());
        }

        var changed = steps["push config changed"];
        Assert.Equal(environment["PUSH_URL"], changed.GetProperty("push").GetString());
        Assert.Equal("", changed.GetProperty("pull").GetString());
        Assert.Equal(environment["PUSH_URL"], changed.GetProperty("restored").GetString());
        Assert.Equal("pusher@pulsecart-local.iam.gserviceaccount.com", changed.GetProperty("account").GetString());
        Assert.Equal("https://push.example", changed.GetProperty("audience").GetString());
        Assert.Equal(0, steps["deleted"].GetProperty("topics").GetInt32());
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("rest")]
    public async Task OrderPublishedThroughANewPushSubscriptionIsConfirmedByTheConsumer(string mode)
    {
        await using var consumer = new EmbeddedConsumer();
        using var client = consumer.CreateClient();
        var orderId = $"o-{Guid.NewGuid():N}";
        var port = (string key) => int.Parse(consumer.Setting($"PulseCart:Emulators:{key}")!, System.Globalization.CultureInfo.InvariantCulture);
        var environment = Tools.NodeEnvironment(port("CloudTasks:GrpcPort"), port("CloudTasks:RestPort"), port("PubSub:GrpcPort"), port("PubSub:RestPort"));
        environment["PUSH_URL"] = $"{consumer.SelfUrl}/consumer/push";
        environment["PUSH_ACCOUNT"] = EmbeddedPubSub.LocalServiceAccount;
        environment["EVENT_JSON"] = EmbeddedConsumer.OrderPlaced(orderId);

        var steps = (await Tools.NodeAsync("push", mode, environment)).Succeeded().Steps;

        var messageId = steps["published"].GetProperty("messageId").GetString()!;
        var attempt = await consumer.AcknowledgementAsync(messageId);
        Assert.Equal(($"projects/pulsecart-local/subscriptions/consumer-{mode}", 204), (attempt.Subscription, attempt.StatusCode));
        var sent = Assert.Single(consumer.SentMessages());
        Assert.Equal("order_confirmation", sent.GetProperty("template").GetString());
        Assert.Equal($"order_confirmation:{orderId}", sent.GetProperty("idempotency_key").GetString());
    }

    /// <summary>The bearer token on <paramref name="request"/>, checked against the twins' signing key and <paramref name="audience"/>.</summary>
    internal static async Task<JsonWebToken> TokenAsync(Twins twins, Recorded request, string audience)
    {
        var bearer = request.Header("Authorization");
        Assert.StartsWith("Bearer ", bearer);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(bearer!["Bearer ".Length..], new TokenValidationParameters
        {
            ValidIssuer = "https://accounts.google.com",
            ValidAudience = audience,
            IssuerSigningKey = twins.Issuer.ValidationKey,
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        return (JsonWebToken)result.SecurityToken;
    }
}
