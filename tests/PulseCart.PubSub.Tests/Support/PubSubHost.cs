using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PulseCart.Emulators.PubSub;

namespace PulseCart.PubSub.Tests.Support;

/// <summary>One request a scripted push endpoint received, stamped with the emulator's (fake) clock.</summary>
public sealed record ReceivedPush(string Endpoint, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset ReceivedAt)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public JsonElement Message => Json.GetProperty("message");

    public string DataText => Encoding.UTF8.GetString(Convert.FromBase64String(Message.GetProperty("data").GetString()!));
}

/// <summary>
/// The Pub/Sub emulator in a real Kestrel app on a free loopback port, on a fake clock, with scripted push endpoints
/// (<c>POST /push/{name}</c>) in the same app: each records what it receives and answers as the test says.
/// </summary>
public sealed class PubSubHost : IAsyncDisposable
{
    public const string Project = "test-project";

    /// <summary>A scripted answer that never comes: the endpoint holds the request until the caller gives up.</summary>
    public const int Hang = -1;

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<int, ReceivedPush, int>> _scripts = new();
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private readonly ConcurrentDictionary<string, Channel<ReceivedPush>> _arrivals = new();
    private readonly ConcurrentQueue<ReceivedPush> _received = new();

    private PubSubHost(WebApplication app, FakeTimeProvider clock)
    {
        _app = app;
        Clock = clock;
    }

    public FakeTimeProvider Clock { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public PubSubEmulator Emulator => _app.Services.GetRequiredService<PubSubEmulator>();

    /// <summary>A clock at a realistic "now", so signed tokens are valid in real time too.</summary>
    public static FakeTimeProvider NewClock() => new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    public static async Task<PubSubHost> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var clock = NewClock();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddPubSubEmulator();
        var app = builder.Build();
        var host = new PubSubHost(app, clock);
        app.MapPost("/push/{name}", host.HandlePushAsync);
        app.MapPubSubEmulator();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        host.BaseAddress = new Uri(app.Urls.Single());
        host.Http = new HttpClient { BaseAddress = host.BaseAddress };
        return host;
    }

    public string PushUrl(string name) => new Uri(BaseAddress, $"/push/{name}").AbsoluteUri;

    public static string TopicName(string id) => $"projects/{Project}/topics/{id}";

    public static string SubscriptionName(string id) => $"projects/{Project}/subscriptions/{id}";

    /// <summary>How endpoint <paramref name="name"/> answers request n (0 for the first): a status, or <see cref="Hang"/>.</summary>
    public void Script(string name, Func<int, int> status) => _scripts[name] = (number, _) => status(number);

    /// <summary>As <see cref="Script(string, Func{int, int})"/>, for answers that depend on what was pushed.</summary>
    public void Script(string name, Func<int, ReceivedPush, int> status) => _scripts[name] = status;

    public IReadOnlyList<ReceivedPush> Pushes(string name) => [.. _received.Where(push => push.Endpoint == name)];

    /// <summary>The next push endpoint <paramref name="name"/> receives, waiting up to ten seconds of real time.</summary>
    public async Task<ReceivedPush> NextPushAsync(string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await Arrivals(name).Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No push reached /push/{name} within 10 s; {Pushes(name).Count} so far.");
        }
    }

    public Task<HttpResponseMessage> PutAsync(string path, string json) =>
        Http.PutAsync($"/emulators/pubsub/v1/{path}", new StringContent(json, Encoding.UTF8, "application/json"));

    public Task<HttpResponseMessage> PostAsync(string path, string json) =>
        Http.PostAsync($"/emulators/pubsub/v1/{path}", new StringContent(json, Encoding.UTF8, "application/json"));

    public Task<HttpResponseMessage> GetAsync(string path) => Http.GetAsync($"/emulators/pubsub/v1/{path}");

    public async Task CreateTopicAsync(string id)
    {
        using var response = await PutAsync(TopicName(id), "{}");
        await EnsureSuccessAsync(response);
    }

    /// <summary>Creates topic <paramref name="topicId"/>'s push subscription to <c>/push/{id}</c>, plus whatever <paramref name="configure"/> adds.</summary>
    public async Task CreateSubscriptionAsync(string id, string topicId, Action<JsonObject>? configure = null)
    {
        var body = new JsonObject
        {
            ["topic"] = TopicName(topicId),
            ["pushConfig"] = new JsonObject { ["pushEndpoint"] = PushUrl(id) },
        };
        configure?.Invoke(body);
        using var response = await PutAsync(SubscriptionName(id), body.ToJsonString());
        await EnsureSuccessAsync(response);
    }

    /// <summary>Publishes one message and returns its id.</summary>
    public async Task<string> PublishAsync(string topicId, string data, IReadOnlyDictionary<string, string>? attributes = null, string? orderingKey = null)
    {
        var message = new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(data)) };
        if (attributes is not null)
        {
            message["attributes"] = new JsonObject(attributes.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)JsonValue.Create(pair.Value))));
        }

        if (orderingKey is not null)
        {
            message["orderingKey"] = orderingKey;
        }

        using var response = await PostAsync($"{TopicName(topicId)}:publish", new JsonObject { ["messages"] = new JsonArray(message) }.ToJsonString());
        await EnsureSuccessAsync(response);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("messageIds")[0].GetString()!;
    }

    /// <summary>Waits (in real time, bounded) until the emulator has nothing to do before the clock moves again.</summary>
    public Task IdleAsync() => Emulator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(15));

    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await IdleAsync();
    }

    /// <summary>The JSON of a 200 answer, disposing the response; anything else fails the test with the answer's body.</summary>
    public static async Task<JsonElement> ReadOkAsync(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private Channel<ReceivedPush> Arrivals(string name) => _arrivals.GetOrAdd(name, _ => Channel.CreateUnbounded<ReceivedPush>());

    private async Task HandlePushAsync(string name, HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var headers = context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var push = new ReceivedPush(name, headers, body.ToArray(), Clock.GetUtcNow());
        var number = _counts.AddOrUpdate(name, 0, (_, count) => count + 1);
        _received.Enqueue(push);
        Arrivals(name).Writer.TryWrite(push);
        var status = _scripts.TryGetValue(name, out var script) ? script(number, push) : StatusCodes.Status204NoContent;
        if (status == Hang)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        context.Response.StatusCode = status;
    }
}

/// <summary>Google's error body, for asserting on emulator answers.</summary>
public static class GoogleErrors
{
    public static async Task<(int Code, string Status, string Message)> ReadAsync(HttpResponseMessage response)
    {
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var error = json.GetProperty("error");
        return (error.GetProperty("code").GetInt32(), error.GetProperty("status").GetString()!, error.GetProperty("message").GetString()!);
    }
}
