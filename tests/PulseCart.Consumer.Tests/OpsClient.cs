using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PulseCart.Consumer.Emulators;

namespace PulseCart.Consumer.Tests;

/// <summary>The operator API as a script would use it: listings, groups, actions, jobs and the audit.</summary>
public static class OpsClient
{
    public static async Task<IReadOnlyList<JsonElement>> EntriesAsync(this HttpClient client, string query) =>
        (await client.GetJsonAsync($"/ops/quarantine?limit=1000&{query}")).GetProperty("entries").EnumerateArray().ToList();

    public static async Task<IReadOnlyList<JsonElement>> GroupsAsync(this HttpClient client, string query) =>
        (await client.GetJsonAsync($"/ops/quarantine/groups?{query}")).GetProperty("groups").EnumerateArray().ToList();

    public static async Task<IReadOnlyList<JsonElement>> AuditAsync(this HttpClient client) =>
        (await client.GetJsonAsync("/ops/audit?limit=1000")).GetProperty("entries").EnumerateArray().ToList();

    public static Task<HttpResponseMessage> ActAsync(this HttpClient client, string id, string action) =>
        client.PostAsync($"/ops/quarantine/{id}/{action}", null);

    public static Task<HttpResponseMessage> EditAsync(this HttpClient client, string id, string body) =>
        client.PostAsync($"/ops/quarantine/{id}/edit", new StringContent(body, Encoding.UTF8, "text/plain"));

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Starts a bulk action and polls its job until it is no longer running; returns the finished job.</summary>
    public static async Task<JsonElement> BulkAsync(this HttpClient client, string action, object selection)
    {
        var started = await client.PostAsJsonAsync($"/ops/quarantine/{action}", selection);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = await started.JsonAsync();
        Assert.Equal($"/ops/quarantine/jobs/{job.GetProperty("id").GetString()}", started.Headers.Location?.ToString());
        for (var attempt = 0; attempt < 300 && job.GetProperty("state").GetString() == "running"; attempt++)
        {
            await Task.Delay(100);
            job = await client.GetJsonAsync(started.Headers.Location!.ToString());
        }

        Assert.Equal("done", job.GetProperty("state").GetString());
        return job;
    }

    /// <summary>Publishes the event to the embedded Pub/Sub twin's topic, as a publisher would; returns the message id.</summary>
    public static async Task<string> PublishAsync(this HttpClient client, JsonNode @event)
    {
        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes(@event.ToJsonString()));
        using var published = await client.PostAsync(
            $"/emulators/pubsub/v1/{EmbeddedPubSub.Topic}:publish",
            new StringContent($$"""{"messages":[{"data":"{{data}}"}]}""", Encoding.UTF8, "application/json"));
        published.EnsureSuccessStatusCode();
        return (await published.JsonAsync()).GetProperty("messageIds")[0].GetString()!;
    }

    /// <summary>The embedded push subscription as the twin describes it (Google's camelCase JSON).</summary>
    public static Task<JsonElement> SubscriptionAsync(this HttpClient client) =>
        client.GetJsonAsync($"/emulators/pubsub/v1/{EmbeddedPubSub.Subscription}");

    /// <summary>The embedded reminder queue's state as the twin reports it (RUNNING or PAUSED).</summary>
    public static async Task<string> QueueStateAsync(this HttpClient client) =>
        (await client.GetJsonAsync($"/emulators/cloudtasks/v2/projects/{EmbeddedCloudTasks.LocalProject}/locations/{EmbeddedCloudTasks.LocalLocation}/queues/pulsecart-cart-reminders"))
            .GetProperty("state").GetString()!;

    public static int Count(this JsonElement job, string name) => job.GetProperty("counts").GetProperty(name).GetInt32();

    /// <summary>An event of the contract with one property changed or removed.</summary>
    public static JsonObject With(this JsonObject @event, Action<JsonObject> change)
    {
        change(@event);
        return @event;
    }
}
