using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PulseCart.CloudTasks.Tests.Support;
using PulseCart.Emulators.CloudTasks;
using FieldMask = Google.Protobuf.WellKnownTypes.FieldMask;
using Queue = PulseCart.GoogleApis.CloudTasks.V2.Queue;
using RetryConfig = PulseCart.GoogleApis.CloudTasks.V2.RetryConfig;
using UpdateQueueRequest = PulseCart.GoogleApis.CloudTasks.V2.UpdateQueueRequest;

namespace PulseCart.CloudTasks.Tests;

/// <summary>The queue half of the Cloud Tasks API: queues made, changed, paused, purged and deleted at run time.</summary>
public sealed class QueueApiTests
{
    private const string Location = "projects/pulsecart-local/locations/local";

    [Fact]
    public async Task QueueCreatedAtRunTimeDispatchesOnItsOwnRateLimitAndRetryConfig()
    {
        await using var scenario = await Scenario.StartAsync();
        var queue = await CreateQueueAsync(scenario, "fresh", """
            "rateLimits":{"maxDispatchesPerSecond":2,"maxConcurrentDispatches":10},
            "retryConfig":{"maxAttempts":2,"minBackoff":"5s","maxBackoff":"60s","maxDoublings":1}
            """);
        Assert.Equal("RUNNING", queue.GetProperty("state").GetString());
        Assert.Equal(2, queue.GetProperty("retryConfig").GetProperty("maxAttempts").GetInt32());
        scenario.Handler.Respond = _ => new Reply(500);

        for (var task = 0; task < 4; task++)
        {
            using var created = await scenario.CreateRawAsync(Scenario.TaskJson(scenario.CallbackUrl.AbsoluteUri, name: $"{Location}/queues/fresh/tasks/t{task}"), $"{Location}/queues/fresh");
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        await scenario.IdleAsync();
        Assert.Equal(2, scenario.Handler.Received.Count);
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(4, scenario.Handler.Received.Count);

        // Each failed once; its retry comes minBackoff (5 s) after its failure, and after maxAttempts (2) it is dropped.
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(4, scenario.Handler.Received.Count);
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(6, scenario.Handler.Received.Count);
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(8, scenario.Handler.Received.Count);
        await scenario.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(8, scenario.Handler.Received.Count);
        Assert.Equal(4, scenario.Emulator.Emulator.Attempts.Count(attempt => attempt.Outcome == PulseCart.Emulators.CloudTasks.CloudTaskAttemptOutcome.Failed));
    }

    [Fact]
    public async Task PatchedRetryConfigAppliesToTheNextRetry()
    {
        await using var scenario = await Scenario.StartAsync();
        await CreateQueueAsync(scenario, "patched", """ "retryConfig":{"minBackoff":"600s","maxBackoff":"600s"} """);
        scenario.Handler.Respond = number => new Reply(number < 2 ? 500 : 200);
        using (await scenario.CreateRawAsync(Scenario.TaskJson(scenario.CallbackUrl.AbsoluteUri), $"{Location}/queues/patched"))
        {
        }

        var first = await scenario.Handler.NextAsync();
        await scenario.IdleAsync();
        var patched = await SendJsonAsync(scenario, HttpMethod.Patch, $"{Location}/queues/patched?updateMask=retryConfig.minBackoff,retryConfig.maxBackoff",
            """{"retryConfig":{"minBackoff":"2s","maxBackoff":"2s"}}""");
        Assert.Equal("2s", patched.GetProperty("retryConfig").GetProperty("minBackoff").GetString());
        Assert.Equal(100, patched.GetProperty("retryConfig").GetProperty("maxAttempts").GetInt32());

        // The first failure was scheduled 600 s out before the patch; the second failure waits the new 2 s.
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(600));
        var second = await scenario.Handler.NextAsync();
        await scenario.IdleAsync();
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(2));
        var third = await scenario.Handler.NextAsync();
        Assert.Equal((TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(2)), (second.ReceivedAt - first.ReceivedAt, third.ReceivedAt - second.ReceivedAt));
    }

    [Fact]
    public async Task PatchingAQueueThatDoesNotExistCreatesItWithTheMaskedFieldsAndDefaultsForTheRest()
    {
        await using var scenario = await Scenario.StartAsync();

        // maxConcurrentDispatches is in the body but not the mask, so like any unmasked field it keeps Google's default.
        var patched = await SendJsonAsync(scenario, HttpMethod.Patch, $"{Location}/queues/upserted?updateMask=rateLimits.maxDispatchesPerSecond,retryConfig.maxAttempts",
            """{"rateLimits":{"maxDispatchesPerSecond":3,"maxConcurrentDispatches":7},"retryConfig":{"maxAttempts":4}}""");
        var read = await GetJsonAsync(scenario, $"{Location}/queues/upserted");

        Assert.Equal(patched.ToString(), read.ToString());
        Assert.Equal("RUNNING", read.GetProperty("state").GetString());
        Assert.Equal(3, read.GetProperty("rateLimits").GetProperty("maxDispatchesPerSecond").GetDouble());
        Assert.Equal(1000, read.GetProperty("rateLimits").GetProperty("maxConcurrentDispatches").GetInt32());
        Assert.Equal(4, read.GetProperty("retryConfig").GetProperty("maxAttempts").GetInt32());
        Assert.Equal("0.100s", read.GetProperty("retryConfig").GetProperty("minBackoff").GetString());

        // Without a mask every field of the body is taken.
        var unmasked = await SendJsonAsync(scenario, HttpMethod.Patch, $"{Location}/queues/unmasked", """{"rateLimits":{"maxConcurrentDispatches":7}}""");
        Assert.Equal(7, unmasked.GetProperty("rateLimits").GetProperty("maxConcurrentDispatches").GetInt32());
        var listed = await GetJsonAsync(scenario, $"{Location}/queues");
        Assert.Equal(
            [Scenario.QueueName, $"{Location}/queues/unmasked", $"{Location}/queues/upserted"],
            listed.GetProperty("queues").EnumerateArray().Select(queue => queue.GetProperty("name").GetString()));

        // The created queue is live: its dispatcher runs its tasks.
        using var created = await scenario.CreateRawAsync(Scenario.TaskJson(scenario.CallbackUrl.AbsoluteUri), $"{Location}/queues/upserted");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var dispatched = await scenario.Handler.NextAsync();
        Assert.Equal("upserted", dispatched.Header("X-CloudTasks-QueueName"));
    }

    [Fact]
    public async Task UpdateQueueOverGrpcCreatesAQueueThatDoesNotExist()
    {
        await using var scenario = await Scenario.StartAsync();
        var service = new CloudTasksGrpcService(scenario.Emulator.Emulator);
        var request = new UpdateQueueRequest
        {
            Queue = new Queue { Name = $"{Location}/queues/by-grpc", RetryConfig = new RetryConfig { MaxAttempts = 6 } },
            UpdateMask = new FieldMask { Paths = { "retry_config.max_attempts" } },
        };

        var answered = await service.UpdateQueue(request, context: null!);

        Assert.Equal(6, answered.RetryConfig.MaxAttempts);
        var read = await GetJsonAsync(scenario, $"{Location}/queues/by-grpc");
        Assert.Equal(6, read.GetProperty("retryConfig").GetProperty("maxAttempts").GetInt32());
        Assert.Equal(500, read.GetProperty("rateLimits").GetProperty("maxDispatchesPerSecond").GetDouble());
    }

    [Fact]
    public async Task MaxConcurrentDispatchesUpToGooglesLimitOf5000IsAccepted()
    {
        await using var scenario = await Scenario.StartAsync();

        var queue = await CreateQueueAsync(scenario, "widest", """ "rateLimits":{"maxConcurrentDispatches":5000} """);

        Assert.Equal(5000, queue.GetProperty("rateLimits").GetProperty("maxConcurrentDispatches").GetInt32());
    }

    [Fact]
    public async Task PausedQueueHoldsItsTasksRunDispatchesOneNowAndPurgeDropsTheRest()
    {
        await using var scenario = await Scenario.StartAsync();
        var queue = Scenario.QueueName;
        Assert.Equal("PAUSED", (await SendJsonAsync(scenario, HttpMethod.Post, $"{queue}:pause", "{}")).GetProperty("state").GetString());
        var held = await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);
        var later = await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.FromDays(1));
        await scenario.AdvanceAsync(TimeSpan.FromMinutes(10));
        Assert.Empty(scenario.Handler.Received);

        var ran = await SendJsonAsync(scenario, HttpMethod.Post, $"{later}:run", """{"responseView":2}""");
        Assert.Equal("FULL", ran.GetProperty("view").GetString());
        var run = await scenario.Handler.NextAsync();
        Assert.Equal(later[(later.LastIndexOf('/') + 1)..], run.Header("X-CloudTasks-TaskName"));

        var purged = await SendJsonAsync(scenario, HttpMethod.Post, $"{queue}:purge", "");
        Assert.True(purged.TryGetProperty("purgeTime", out _));
        using (var gone = await scenario.GetTaskAsync(held))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Equal("RUNNING", (await SendJsonAsync(scenario, HttpMethod.Post, $"{queue}:resume", "{}")).GetProperty("state").GetString());
        await scenario.AdvanceAsync(TimeSpan.FromDays(1));
        Assert.Single(scenario.Handler.Received);
    }

    [Fact]
    public async Task ResponseViewAndEnumsAreReadAsNamesOrNumbersAndWrittenAsAsked()
    {
        await using var scenario = await Scenario.StartAsync();
        var name = await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.FromHours(1));

        var byNumber = await GetJsonAsync(scenario, $"{name}?responseView=2");
        var byName = await GetJsonAsync(scenario, $"{name}?responseView=FULL");
        var numbered = await GetJsonAsync(scenario, $"{name}?responseView=FULL&$alt=json;enum-encoding=int");
        var basic = await GetJsonAsync(scenario, name);

        Assert.True(byNumber.GetProperty("httpRequest").TryGetProperty("body", out _));
        Assert.Equal("FULL", byName.GetProperty("view").GetString());
        Assert.Equal(2, numbered.GetProperty("view").GetInt32());
        Assert.Equal(1, numbered.GetProperty("httpRequest").GetProperty("httpMethod").GetInt32());
        Assert.Equal("BASIC", basic.GetProperty("view").GetString());
        Assert.False(basic.GetProperty("httpRequest").TryGetProperty("body", out _), "the BASIC view leaves the body out");

        // A request with numeric enums, as the Node client's REST transport sends it.
        using var created = await scenario.CreateRawAsync(
            $$$"""{"task":{"httpRequest":{"url":"{{{scenario.CallbackUrl.AbsoluteUri}}}","httpMethod":4,"body":"e30="}},"responseView":2}""");
        var task = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("PUT", "FULL"), (task.GetProperty("httpRequest").GetProperty("httpMethod").GetString(), task.GetProperty("view").GetString()));
    }

    [Fact]
    public async Task AQueuesLoggingSamplingRatioIsKeptAndShown()
    {
        await using var scenario = await Scenario.StartAsync();

        var created = await CreateQueueAsync(scenario, "logged", """ "stackdriverLoggingConfig":{"samplingRatio":0.5} """);
        var patched = await SendJsonAsync(scenario, HttpMethod.Patch, $"{Location}/queues/logged?updateMask=stackdriverLoggingConfig.samplingRatio",
            """{"stackdriverLoggingConfig":{"samplingRatio":0.25}}""");
        var unset = await CreateQueueAsync(scenario, "quiet", "");

        Assert.Equal(0.5, created.GetProperty("stackdriverLoggingConfig").GetProperty("samplingRatio").GetDouble());
        Assert.Equal(0.25, patched.GetProperty("stackdriverLoggingConfig").GetProperty("samplingRatio").GetDouble());
        Assert.Equal(0.25, (await GetJsonAsync(scenario, $"{Location}/queues/logged")).GetProperty("stackdriverLoggingConfig").GetProperty("samplingRatio").GetDouble());
        Assert.False(unset.TryGetProperty("stackdriverLoggingConfig", out _));
    }

    [Fact]
    public async Task QueueMistakesGetGooglesErrors()
    {
        await using var scenario = await Scenario.StartAsync();
        await CreateQueueAsync(scenario, "twice", "");

        (string Method, string Path, string? Body, int Code, string Status)[] cases =
        [
            ("POST", $"{Location}/queues", $$"""{"name":"{{Location}}/queues/twice"}""", 409, "ALREADY_EXISTS"),
            ("POST", $"{Location}/queues", """{"name":"projects/other/locations/local/queues/x"}""", 400, "INVALID_ARGUMENT"),
            ("POST", $"{Location}/queues", $$$"""{"name":"{{{Location}}}/queues/fast","rateLimits":{"maxDispatchesPerSecond":501}}""", 400, "INVALID_ARGUMENT"),
            ("POST", $"{Location}/queues", $$$"""{"name":"{{{Location}}}/queues/nan","rateLimits":{"maxDispatchesPerSecond":"NaN"}}""", 400, "INVALID_ARGUMENT"),
            ("PATCH", $"{Location}/queues/twice?updateMask=rateLimits.maxDispatchesPerSecond", """{"rateLimits":{"maxDispatchesPerSecond":"NaN"}}""", 400, "INVALID_ARGUMENT"),
            ("POST", $"{Location}/queues", $$$"""{"name":"{{{Location}}}/queues/wide","rateLimits":{"maxConcurrentDispatches":5001}}""", 400, "INVALID_ARGUMENT"),
            ("POST", $"{Location}/queues", $$$"""{"name":"{{{Location}}}/queues/logged","stackdriverLoggingConfig":{"samplingRatio":1.5}}""", 400, "INVALID_ARGUMENT"),
            ("PATCH", $"{Location}/queues/twice?updateMask=rateLimits.maxConcurrentDispatches", """{"rateLimits":{"maxConcurrentDispatches":5001}}""", 400, "INVALID_ARGUMENT"),
            ("PATCH", $"{Location}/queues/wide", """{"rateLimits":{"maxConcurrentDispatches":5001}}""", 400, "INVALID_ARGUMENT"),
            ("PATCH", "projects/other/locations/local/queues/bad_id", "{}", 400, "INVALID_ARGUMENT"),
            ("GET", $"{Location}/queues/missing", null, 404, "NOT_FOUND"),
            ("PATCH", $"{Location}/queues/twice?updateMask=nonsense", "{}", 400, "INVALID_ARGUMENT"),
            ("POST", $"{Location}/queues/missing:pause", "{}", 404, "NOT_FOUND"),
            ("DELETE", $"{Location}/queues/missing", null, 404, "NOT_FOUND"),
        ];
        foreach (var (method, path, body, code, status) in cases)
        {
            using var response = await scenario.Emulator.Http.SendAsync(Request(new HttpMethod(method), path, body));
            var error = await GoogleErrors.ReadAsync(response);
            Assert.True((code, status) == (error.Code, error.Status), $"{method} {path}: {error}");
            Assert.Equal(code, (int)response.StatusCode);
        }

        using var deleted = await scenario.Emulator.Http.SendAsync(Request(HttpMethod.Delete, $"{Location}/queues/twice", null));
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var listed = await GetJsonAsync(scenario, $"{Location}/queues");
        Assert.Equal([Scenario.QueueName], listed.GetProperty("queues").EnumerateArray().Select(queue => queue.GetProperty("name").GetString()));
    }

    private static async Task<JsonElement> CreateQueueAsync(Scenario scenario, string id, string settingsJson) =>
        await SendJsonAsync(scenario, HttpMethod.Post, $"{Location}/queues", $$"""{"name":"{{Location}}/queues/{{id}}"{{(settingsJson.Trim().Length > 0 ? "," + settingsJson : "")}}}""");

    private static Task<JsonElement> GetJsonAsync(Scenario scenario, string path) => SendJsonAsync(scenario, HttpMethod.Get, path, null);

    private static async Task<JsonElement> SendJsonAsync(Scenario scenario, HttpMethod method, string path, string? body)
    {
        using var response = await scenario.Emulator.Http.SendAsync(Request(method, path, body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? body) =>
        new(method, $"/emulators/cloudtasks/v2/{path}") { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
}
