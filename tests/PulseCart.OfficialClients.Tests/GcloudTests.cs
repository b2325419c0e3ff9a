using PulseCart.Consumer.Emulators;
using PulseCart.OfficialClients.Tests.Support;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.OfficialClients.Tests;

/// <summary>
/// The gcloud CLI on this machine against the twins' REST ports, through <c>CLOUDSDK_API_ENDPOINT_OVERRIDES_*</c> with a
/// dummy access token and a throwaway configuration folder: the commands a PulseCart developer types.
/// </summary>
public sealed class GcloudTests : IDisposable
{
    private readonly string _config = Directory.CreateTempSubdirectory("pulsecart-gcloud-").FullName;

    [Fact]
    public async Task QueueWithTheSeedsSettingsRunsAScheduledTaskWithATokenAndCanBePausedPurgedAndDeleted()
    {
        await using var twins = await Twins.StartAsync();
        Task<ToolRun> Gcloud(params string[] arguments) => Tools.GcloudAsync(twins, _config, arguments);

        (await Gcloud("tasks", "queues", "create", "reminders", "--location=local",
            "--max-dispatches-per-second=10", "--max-concurrent-dispatches=4", "--max-attempts=5",
            "--min-backoff=1s", "--max-backoff=30s", "--max-doublings=3")).Succeeded();
        var described = (await Gcloud("tasks", "queues", "describe", "reminders", "--location=local", "--format=json")).Succeeded().Output;
        Assert.Contains("\"maxDispatchesPerSecond\": 10.0", described);
        Assert.Contains("\"maxConcurrentDispatches\": 4", described);
        Assert.Contains("\"maxAttempts\": 5", described);
        Assert.Contains("\"minBackoff\": \"1s\"", described);
        Assert.Contains("\"maxBackoff\": \"30s\"", described);
        Assert.Contains("\"maxDoublings\": 3", described);

        var due = DateTimeOffset.UtcNow.AddSeconds(2).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        (await Gcloud("tasks", "create-http-task", "remind-1", "--queue=reminders", "--location=local",
            $"--url={twins.BaseUrl}/record/gcloud", "--method=POST", "--body-content={\"cart_id\":\"c-1\"}",
            $"--schedule-time={due}", "--oidc-service-account-email=tasks@pulsecart-local.iam.gserviceaccount.com",
            "--oidc-token-audience=https://consumer.example/tasks/cart-reminder")).Succeeded();
        var dispatched = await twins.WaitForAsync(request => request.Header("X-CloudTasks-TaskName") == "remind-1");
        Assert.Equal("reminders", dispatched.Header("X-CloudTasks-QueueName"));
        Assert.Equal("{\"cart_id\":\"c-1\"}", dispatched.Body);
        var token = await NodeClientTests.TokenAsync(twins, dispatched, "https://consumer.example/tasks/cart-reminder");
        Assert.Equal("tasks@pulsecart-local.iam.gserviceaccount.com", token.GetClaim("email").Value);

        (await Gcloud("tasks", "queues", "pause", "reminders", "--location=local")).Succeeded();
        (await Gcloud("tasks", "create-http-task", "remind-2", "--queue=reminders", "--location=local", $"--url={twins.BaseUrl}/record/gcloud")).Succeeded();
        var listed = (await Gcloud("tasks", "list", "--queue=reminders", "--location=local", "--format=value(name)")).Succeeded().Output;
        Assert.Contains("remind-2", listed);
        (await Gcloud("tasks", "run", "remind-2", "--queue=reminders", "--location=local")).Succeeded();
        await twins.WaitForAsync(request => request.Header("X-CloudTasks-TaskName") == "remind-2");

        (await Gcloud("tasks", "create-http-task", "remind-3", "--queue=reminders", "--location=local", $"--url={twins.BaseUrl}/record/gcloud")).Succeeded();
        (await Gcloud("tasks", "queues", "purge", "reminders", "--location=local")).Succeeded();
        Assert.Equal("", (await Gcloud("tasks", "list", "--queue=reminders", "--location=local", "--format=value(name)")).Succeeded().Output.Trim());
        (await Gcloud("tasks", "queues", "resume", "reminders", "--location=local")).Succeeded();
        (await Gcloud("tasks", "queues", "update", "reminders", "--location=local", "--max-attempts=8")).Succeeded();
        Assert.Contains("\"maxAttempts\": 8", (await Gcloud("tasks", "queues", "describe", "reminders", "--location=local", "--format=json")).Succeeded().Output);
        Assert.Contains("reminders", (await Gcloud("tasks", "queues", "list", "--location=local", "--format=value(name)")).Succeeded().Output);

        (await Gcloud("tasks", "queues", "delete", "reminders", "--location=local")).Succeeded();
        var gone = await Gcloud("tasks", "queues", "describe", "reminders", "--location=local");
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("NOT_FOUND", gone.Errors);
        Assert.DoesNotContain(twins.Recorded, request => request.Header("X-CloudTasks-TaskName") == "remind-3");
    }

    [Fact]
    public async Task PullSubscriptionIsPulledAcknowledgedSwitchedToPushAndBackUpdatedAndDeleted()
    {
        await using var twins = await Twins.StartAsync();
        Task<ToolRun> Gcloud(params string[] arguments) => Tools.GcloudAsync(twins, _config, arguments);

        (await Gcloud("pubsub", "topics", "create", "orders")).Succeeded();
        (await Gcloud("pubsub", "subscriptions", "create", "orders-pull", "--topic=orders", "--ack-deadline=20")).Succeeded();
        (await Gcloud("pubsub", "topics", "publish", "orders", "--message=hello", "--attribute=origin=gcloud")).Succeeded();
        var pulled = (await Gcloud("pubsub", "subscriptions", "pull", "orders-pull", "--auto-ack", "--limit=5", "--format=json")).Succeeded().Output;
        Assert.Contains("\"origin\": \"gcloud\"", pulled);
        Assert.Contains("\"ackId\"", pulled);
        Assert.Equal("[]", (await Gcloud("pubsub", "subscriptions", "pull", "orders-pull", "--auto-ack", "--format=json")).Succeeded().Output.Trim());

        (await Gcloud("pubsub", "subscriptions", "modify-push-config", "orders-pull", $"--push-endpoint={twins.BaseUrl}/record/push",
            "--push-auth-service-account=pusher@pulsecart-local.iam.gserviceaccount.com", "--push-auth-token-audience=https://push.example")).Succeeded();
        (await Gcloud("pubsub", "topics", "publish", "orders", "--message=pushed")).Succeeded();
        var push = await twins.WaitForAsync(request => request.Path == "/record/push");
        Assert.Contains("\"subscription\":\"projects/pulsecart-local/subscriptions/orders-pull\"", push.Body);
        await NodeClientTests.TokenAsync(twins, push, "https://push.example");

        (await Gcloud("pubsub", "subscriptions", "modify-push-config", "orders-pull", "--push-endpoint=")).Succeeded();
        Assert.DoesNotContain("pushEndpoint", (await Gcloud("pubsub", "subscriptions", "describe", "orders-pull", "--format=json")).Succeeded().Output);
        (await Gcloud("pubsub", "subscriptions", "modify-push-config", "orders-pull", $"--push-endpoint={twins.BaseUrl}/record/push",
            "--push-auth-service-account=pusher@pulsecart-local.iam.gserviceaccount.com")).Succeeded();
        var restored = (await Gcloud("pubsub", "subscriptions", "describe", "orders-pull", "--format=json")).Succeeded().Output;
        Assert.Contains($"\"pushEndpoint\": \"{twins.BaseUrl}/record/push\"", restored);
        Assert.Contains("\"serviceAccountEmail\": \"pusher@pulsecart-local.iam.gserviceaccount.com\"", restored);

        (await Gcloud("pubsub", "subscriptions", "update", "orders-pull", "--ack-deadline=45", "--update-labels=team=checkout")).Succeeded();
        var updated = (await Gcloud("pubsub", "subscriptions", "describe", "orders-pull", "--format=json")).Succeeded().Output;
        Assert.Contains("\"ackDeadlineSeconds\": 45", updated);
        Assert.Contains("\"team\": \"checkout\"", updated);
        (await Gcloud("pubsub", "topics", "update", "orders", "--update-labels=owner=payments")).Succeeded();
        Assert.Contains("\"owner\": \"payments\"", (await Gcloud("pubsub", "topics", "describe", "orders", "--format=json")).Succeeded().Output);

        (await Gcloud("pubsub", "subscriptions", "delete", "orders-pull")).Succeeded();
        (await Gcloud("pubsub", "topics", "delete", "orders")).Succeeded();
        Assert.Equal("", (await Gcloud("pubsub", "topics", "list", "--format=value(name)")).Succeeded().Output.Trim());
    }

    [Fact]
    public async Task OrderPublishedThroughANewPushSubscriptionIsConfirmedByTheConsumer()
    {
        await using var consumer = new EmbeddedConsumer();
        using var client = consumer.CreateClient();
        var rest = consumer.Setting("PulseCart:Emulators:PubSub:RestPort");
        var orderId = $"o-{Guid.NewGuid():N}";
        var pushUrl = $"{consumer.SelfUrl}/consumer/push";
        Task<ToolRun> Gcloud(params string[] arguments) => Tools.GcloudAsync(rest!, _config, arguments);

        (await Gcloud("pubsub", "topics", "create", "orders-gcloud")).Succeeded();
        (await Gcloud("pubsub", "subscriptions", "create", "consumer-gcloud", "--topic=orders-gcloud", $"--push-endpoint={pushUrl}",
            $"--push-auth-service-account={EmbeddedPubSub.LocalServiceAccount}", $"--push-auth-token-audience={pushUrl}")).Succeeded();
        var published = (await Gcloud("pubsub", "topics", "publish", "orders-gcloud", $"--message={EmbeddedConsumer.OrderPlaced(orderId)}", "--format=value(messageIds)")).Succeeded();

        var attempt = await consumer.AcknowledgementAsync(published.Output.Trim());
        Assert.Equal(("projects/pulsecart-local/subscriptions/consumer-gcloud", 204), (attempt.Subscription, attempt.StatusCode));
        var sent = Assert.Single(consumer.SentMessages());
        Assert.Equal($"order_confirmation:{orderId}", sent.GetProperty("idempotency_key").GetString());
    }

    public void Dispose() => Directory.Delete(_config, recursive: true);
}
