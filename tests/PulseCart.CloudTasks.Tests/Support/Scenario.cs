using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PulseCart.Google.CloudTasks;
using PulseCart.Google.Credentials;
using PulseCart.Grains.Reminders;
using StackExchange.Redis;

namespace PulseCart.CloudTasks.Tests.Support;

/// <summary>
/// The whole path a reminder takes: <see cref="CloudTasksQueue"/> → emulator (fake clock) → a recording handler.
/// </summary>
public sealed class Scenario : IAsyncDisposable
{
    public const string QueueName = "projects/pulsecart-local/locations/local/queues/pulsecart-cart-reminders";
    public const string ServiceAccount = "reminders@pulsecart-local.iam.gserviceaccount.com";

    private readonly ServiceProvider _client;

    private Scenario(EmulatorHost emulator, CallbackServer handler, ServiceProvider client)
    {
        Emulator = emulator;
        Handler = handler;
        _client = client;
        Queue = client.GetRequiredService<ITaskQueue>();
    }

    public EmulatorHost Emulator { get; }

    public CallbackServer Handler { get; }

    public ITaskQueue Queue { get; }

    public FakeTimeProvider Clock => Emulator.Clock;

    public Uri CallbackUrl => new(Handler.BaseAddress, "/tasks/cart-reminder");

    /// <summary>A clock at a realistic "now", so signed tokens are valid in real time too.</summary>
    public static FakeTimeProvider NewClock() =>
        new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    public static async Task<Scenario> StartAsync(
        IReadOnlyDictionary<string, string?>? emulatorSettings = null,
        IReadOnlyDictionary<string, string?>? clientSettings = null,
        Action<IServiceCollection>? emulatorServices = null)
    {
        var handler = await CallbackServer.StartAsync();
        var emulator = await EmulatorHost.StartAsync(NewClock(), emulatorSettings, services: emulatorServices);
        handler.Now = emulator.Clock.GetUtcNow;
        return new Scenario(emulator, handler, Client(emulator.CloudTasksBaseUrl, handler.BaseAddress, clientSettings));
    }

    /// <summary>A <see cref="CloudTasksQueue"/> wired the way the consumer wires it, pointed at <paramref name="baseUrl"/>.</summary>
    public static ServiceProvider Client(
        Uri baseUrl,
        Uri callbackBaseUrl,
        IReadOnlyDictionary<string, string?>? overrides = null,
        IAccessTokenSource? accessTokens = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["PulseCart:CloudTasks:BaseUrl"] = baseUrl.AbsoluteUri,
            ["PulseCart:CloudTasks:ProjectId"] = "pulsecart-local",
            ["PulseCart:CloudTasks:Location"] = "local",
            ["PulseCart:CloudTasks:CallbackBaseUrl"] = callbackBaseUrl.AbsoluteUri,
            ["PulseCart:CloudTasks:ServiceAccountEmail"] = ServiceAccount,
            ["PulseCart:CloudTasks:ClientRetryBaseDelay"] = "00:00:00.010",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        if (accessTokens is not null)
        {
            services.AddSingleton(accessTokens);
        }

        services.AddCloudTasksQueue();
        return services.BuildServiceProvider();
    }

    public static ReminderTask Reminder(string id, DateTimeOffset dueAt) => new(id, "cart-9", "user-42", "event-1", dueAt);

    /// <summary>A hash-like task id, as the grains derive them.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N");

    public Task<string> ScheduleAsync(string id, TimeSpan dueIn) => Queue.ScheduleAsync(Reminder(id, Clock.GetUtcNow() + dueIn));

    /// <summary>A Cloud Tasks create request body with just the fields a test sets.</summary>
    public static string TaskJson(string? url, string? name = null, string? scheduleTime = null, string? dispatchDeadline = null)
    {
        var http = new JsonObject();
        if (url is not null)
        {
            http["url"] = url;
        }

        var task = new JsonObject { ["httpRequest"] = http };
        if (name is not null)
        {
            task["name"] = name;
        }

        if (scheduleTime is not null)
        {
            task["scheduleTime"] = scheduleTime;
        }

        if (dispatchDeadline is not null)
        {
            task["dispatchDeadline"] = dispatchDeadline;
        }

        return new JsonObject { ["task"] = task }.ToJsonString();
    }

    public Task IdleAsync() => Emulator.IdleAsync();

    public Task AdvanceAsync(TimeSpan by) => Emulator.AdvanceAsync(by);

    public Task<HttpResponseMessage> GetTaskAsync(string taskName) => Emulator.Http.GetAsync($"/emulators/cloudtasks/v2/{taskName}");

    public async Task<JsonElement> GetTaskJsonAsync(string taskName)
    {
        using var response = await GetTaskAsync(taskName);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public Task<HttpResponseMessage> CreateRawAsync(string json, string queue = QueueName) =>
        Emulator.Http.PostAsync($"/emulators/cloudtasks/v2/{queue}/tasks", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await Emulator.DisposeAsync();
        await Handler.DisposeAsync();
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
