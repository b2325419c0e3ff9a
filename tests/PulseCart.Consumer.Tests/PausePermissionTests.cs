using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// Google's APIs as a service account without the roles sees them: a stand-in for pubsub.googleapis.com and
/// cloudtasks.googleapis.com on loopback that answers every call 403 PERMISSION_DENIED, with Google's error body.
/// </summary>
public sealed class PermissionDeniedApi : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PermissionDeniedApi(WebApplication app) => _app = app;

    /// <summary>Every request, as <c>METHOD /path</c>.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public string Url { get; private set; } = "";

    public static async Task<PermissionDeniedApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var api = new PermissionDeniedApi(builder.Build());
        api._app.Run(async context =>
        {
            api.Requests.Enqueue($"{context.Request.Method} {context.Request.Path}");
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}""");
        });
        await api._app.StartAsync();
        api.Url = api._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return api;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

public sealed class PausePermissionTests
{
    private const string Subscription = "projects/shop-prod/subscriptions/pulsecart-consumer";
    private const string Queue = "projects/shop-prod/locations/europe-west1/queues/pulsecart-cart-reminders";

    [Fact]
    public async Task PauseWithoutTheRolesNamesThemAndChangesNothing()
    {
        await using var google = await PermissionDeniedApi.StartAsync();
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?>
        {
            ["PulseCart:PubSub:BaseUrl"] = google.Url,
            ["PulseCart:PubSub:Subscription"] = Subscription,
            ["PulseCart:CloudTasks:BaseUrl"] = google.Url,
            ["PulseCart:CloudTasks:ProjectId"] = "shop-prod",
            ["PulseCart:CloudTasks:Location"] = "europe-west1",
            ["PulseCart:CloudTasks:CallbackBaseUrl"] = "https://pulsecart.example.com",
        });
        var client = consumer.CreateClient();

        using var paused = await client.PostAsync("/ops/pause", null);
        Assert.Equal(HttpStatusCode.BadGateway, paused.StatusCode);
        var answer = await paused.JsonAsync();
        Assert.False(answer.GetProperty("paused").GetBoolean());
        Assert.Equal("failed", answer.GetProperty("pushes").GetProperty("state").GetString());
        Assert.Equal(
            $"roles/pubsub.editor on subscription {Subscription} (pubsub.subscriptions.get, pubsub.subscriptions.update)",
            answer.GetProperty("pushes").GetProperty("missing_role").GetString());
        Assert.Equal(
            $"roles/cloudtasks.queueAdmin on queue {Queue} (cloudtasks.queues.get, cloudtasks.queues.pause, cloudtasks.queues.resume)",
            answer.GetProperty("reminders").GetProperty("missing_role").GetString());
        Assert.Equal(2, answer.GetProperty("missing_roles").GetArrayLength());
        Assert.All(answer.GetProperty("done").EnumerateArray(), line => Assert.Contains("PERMISSION_DENIED", line.GetString()));

        // Read, refused, and nothing changed: no detach was sent without a saved config, no pause without a known state.
        Assert.Equal([$"GET /v1/{Subscription}", $"GET /v2/{Queue}"], google.Requests.Order().ToArray());
        var state = await client.GetJsonAsync("/ops/pause");
        Assert.False(state.GetProperty("paused").GetBoolean());
        Assert.Contains("PERMISSION_DENIED", state.GetProperty("observed").GetProperty("pushes_error").GetString());
        Assert.Contains("PERMISSION_DENIED", state.GetProperty("observed").GetProperty("queue_error").GetString());

        var audit = Assert.Single(await client.AuditAsync(), entry => entry.GetProperty("action").GetString() == "pause");
        Assert.StartsWith("refused, nothing held: pushes failed (missing roles/pubsub.editor", audit.GetProperty("outcome").GetString());
        Assert.Contains("reminders failed (missing roles/cloudtasks.queueAdmin", audit.GetProperty("outcome").GetString());

        using var resumed = await client.PostAsync("/ops/resume", null);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Equal(4, google.Requests.Count);
    }
}
