using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PulseCart.CloudTasks.Tests.Support;
using PulseCart.Google.CloudTasks;
using PulseCart.Google.Credentials;
using PulseCart.Grains.Reminders;
using QueueState = PulseCart.GoogleApis.CloudTasks.V2.Queue.Types.State;

namespace PulseCart.CloudTasks.Tests;

/// <summary>The client side: what <see cref="CloudTasksQueue"/> sends to the Cloud Tasks REST API and how it treats answers.</summary>
public sealed class CloudTasksQueueTests
{
    private const string QueuePath = "projects/pulsecart-prod/locations/europe-west1/queues/pulsecart-cart-reminders";

    [Fact]
    public async Task CreateRequestMatchesTheCloudTasksRestShapeFieldByField()
    {
        await using var api = await CallbackServer.StartAsync();
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), ProdQueue(), new FixedToken("token-1"));
        var dueAt = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).AddHours(2).AddMilliseconds(250);
        var id = "0123456789abcdef0123456789abcdef";

        var name = await client.GetRequiredService<ITaskQueue>().ScheduleAsync(new ReminderTask(id, "cart-9", "user-42", "event-7", dueAt));

        Assert.Equal($"{QueuePath}/tasks/{id}", name);
        var request = Assert.Single(api.Received);
        Assert.Equal("POST", request.Method);
        Assert.Equal($"/v2/{QueuePath}/tasks", request.Path);
        Assert.Equal("Bearer token-1", request.Header("Authorization"));
        Assert.StartsWith("application/json", request.Header("Content-Type"));

        using var json = JsonDocument.Parse(request.Body);
        var task = Assert.Single(json.RootElement.EnumerateObject(), property => property.Name == "task").Value;
        Assert.Equal(["name", "httpRequest", "scheduleTime", "dispatchDeadline"], task.EnumerateObject().Select(property => property.Name));
        Assert.Equal(name, task.GetProperty("name").GetString());
        Assert.Equal($"{dueAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss}.250Z", task.GetProperty("scheduleTime").GetString());
        Assert.Equal("600s", task.GetProperty("dispatchDeadline").GetString());

        var http = task.GetProperty("httpRequest");
        Assert.Equal(["url", "httpMethod", "headers", "body", "oidcToken"], http.EnumerateObject().Select(property => property.Name));
        Assert.Equal("https://consumer.example/tasks/cart-reminder", http.GetProperty("url").GetString());
        Assert.Equal("POST", http.GetProperty("httpMethod").GetString());
        var header = Assert.Single(http.GetProperty("headers").EnumerateObject());
        Assert.Equal(("Content-Type", "application/json"), (header.Name, header.Value.GetString()));
        Assert.Equal(Scenario.ServiceAccount, http.GetProperty("oidcToken").GetProperty("serviceAccountEmail").GetString());
        Assert.Equal("https://consumer.example/tasks/cart-reminder", http.GetProperty("oidcToken").GetProperty("audience").GetString());

        using var callback = JsonDocument.Parse(Convert.FromBase64String(http.GetProperty("body").GetString()!));
        Assert.Equal(
            ["reminder_id", "cart_id", "user_id", "event_id", "due_at"],
            callback.RootElement.EnumerateObject().Select(property => property.Name));
        var parsed = JsonSerializer.Deserialize(http.GetProperty("body").GetBytesFromBase64(), CartReminderJsonContext.Default.CartReminderCallback);
        Assert.Equal(new CartReminderCallback(id, "cart-9", "user-42", "event-7", dueAt), parsed);
    }

    [Fact]
    public async Task PendingRemindersNameTheirCartsAndAPageTooLargeToReadIsListedWithoutThem()
    {
        // Through the twin, which pages large tasks: three of someone else's, due first, fill more than one page; the
        // consumer's own five reminders after them are listed too, each with its cart.
        await using (var scenario = await Scenario.StartAsync())
        {
            var large = Convert.ToBase64String(new byte[1_000_000]);
            var dueFirst = scenario.Clock.GetUtcNow().AddMinutes(30).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            for (var task = 0; task < 3; task++)
            {
                using var created = await scenario.CreateRawAsync(
                    $$$$"""{"task":{"scheduleTime":"{{{{dueFirst}}}}","httpRequest":{"url":"{{{{scenario.CallbackUrl.AbsoluteUri}}}}","body":"{{{{large}}}}"}}}""");
                Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            }

            for (var reminder = 0; reminder < 5; reminder++)
            {
                await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.FromHours(1));
            }

            var pending = await ((CloudTasksQueue)scenario.Queue).ListPendingAsync(200);

            Assert.Equal(8, pending.Count);
            Assert.Equal(5, pending.Count(reminder => reminder.CartId == "cart-9"));
        }

        // A queue that also holds someone else's large tasks, as Google may page them: the FULL page (~10 MB) is not
        // read into memory whole; the BASIC page is listed instead, without carts.
        await using var api = await CallbackServer.StartAsync();
        var body = Convert.ToBase64String(new byte[200_000]);
        string Page(bool full) => JsonSerializer.Serialize(new
        {
            tasks = Enumerable.Range(0, 40).Select(task => new
            {
                name = $"{QueuePath}/tasks/t{task}",
                scheduleTime = "2026-12-04T12:00:00Z",
                httpRequest = new { url = "https://elsewhere.example/", body = full ? body : null },
            }),
        }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });
        api.Respond = number => new Reply(200, Body: Page(full: number == 0));
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), ProdQueue(), new FixedToken("token-1"));

        var listed = await ((CloudTasksQueue)client.GetRequiredService<ITaskQueue>()).ListPendingAsync(100);

        Assert.Equal(2, api.Received.Count);
        Assert.Equal(40, listed.Count);
        Assert.All(listed, reminder => Assert.Null(reminder.CartId));
    }

    [Fact]
    public async Task ConfiguredAudienceAndDeadlineAreSentAndNoServiceAccountMeansNoOidcToken()
    {
        await using var api = await CallbackServer.StartAsync();
        var settings = ProdQueue();
        settings["PulseCart:CloudTasks:Audience"] = "https://audience.example";
        settings["PulseCart:CloudTasks:DispatchDeadline"] = "00:00:45";
        await using (var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), settings))
        {
            await client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(Scenario.NewId(), DateTimeOffset.UtcNow));
        }

        settings["PulseCart:CloudTasks:ServiceAccountEmail"] = "";
        await using (var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), settings))
        {
            await client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(Scenario.NewId(), DateTimeOffset.UtcNow));
        }

        using var withAccount = JsonDocument.Parse(api.Received[0].Body);
        var task = withAccount.RootElement.GetProperty("task");
        Assert.Equal("45s", task.GetProperty("dispatchDeadline").GetString());
        Assert.Equal("https://audience.example", task.GetProperty("httpRequest").GetProperty("oidcToken").GetProperty("audience").GetString());
        Assert.Null(api.Received[0].Header("Authorization"));

        using var withoutAccount = JsonDocument.Parse(api.Received[1].Body);
        Assert.False(withoutAccount.RootElement.GetProperty("task").GetProperty("httpRequest").TryGetProperty("oidcToken", out _));
    }

    [Fact]
    public async Task GoogleHostsGetApplicationDefaultCredentialsAndEmulatorsGetNone()
    {
        await using var google = Scenario.Client(new Uri("https://cloudtasks.googleapis.com"), new Uri("https://consumer.example/"));
        await using var emulator = Scenario.Client(new Uri("http://localhost:8080/emulators/cloudtasks"), new Uri("https://consumer.example/"));

        Assert.IsType<GoogleAccessTokenSource>(google.GetRequiredService<IAccessTokenSource>());
        Assert.IsType<NoAccessTokenSource>(emulator.GetRequiredService<IAccessTokenSource>());
    }

    [Fact]
    public async Task MissingSettingsStopStartupWithMessagesNamingThem()
    {
        await using var client = Scenario.Client(
            new Uri("https://cloudtasks.googleapis.com"),
            new Uri("https://consumer.example/"),
            new Dictionary<string, string?>
            {
                ["PulseCart:CloudTasks:ProjectId"] = "",
                ["PulseCart:CloudTasks:CallbackBaseUrl"] = "",
                ["PulseCart:CloudTasks:DispatchDeadline"] = "00:00:05",
            });

        var failure = Assert.Throws<OptionsValidationException>(() => client.GetRequiredService<IOptions<CloudTasksOptions>>().Value);

        Assert.Contains(failure.Failures, message => message.Contains("PulseCart:CloudTasks:ProjectId is required.", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, message => message.Contains("PulseCart:CloudTasks:CallbackBaseUrl is required", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, message => message.Contains("PulseCart:CloudTasks:DispatchDeadline must be between", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TransientQueueErrorsAreRetriedUntilTheQueueAccepts()
    {
        await using var api = await CallbackServer.StartAsync();
        api.Respond = number => number < 2 ? new Reply(503, Body: GoogleError(503, "UNAVAILABLE", "The service is currently unavailable.")) : new Reply(200, Body: "{}");
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), ProdQueue());
        var id = Scenario.NewId();

        var name = await client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(id, DateTimeOffset.UtcNow.AddMinutes(5)));

        Assert.Equal($"{QueuePath}/tasks/{id}", name);
        Assert.Equal(3, api.Received.Count);
        Assert.Single(api.Received.Select(request => request.BodyText).Distinct());
    }

    [Fact]
    public async Task PermanentQueueErrorThrowsAtOnceNamingQueueTaskAndGoogleMessage()
    {
        await using var api = await CallbackServer.StartAsync();
        api.Respond = _ => new Reply(400, Body: GoogleError(400, "INVALID_ARGUMENT", "Task name is invalid."));
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), ProdQueue());
        var id = Scenario.NewId();

        var failure = await Assert.ThrowsAsync<CloudTasksRejectedException>(
            () => client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(id, DateTimeOffset.UtcNow.AddMinutes(5))));

        Assert.Single(api.Received);
        Assert.Contains(QueuePath, failure.Message);
        Assert.Contains(id, failure.Message);
        Assert.Contains("HTTP 400 INVALID_ARGUMENT: Task name is invalid.", failure.Message);
        Assert.Equal(HttpStatusCode.BadRequest, failure.StatusCode);
        Assert.False(failure.IsTransient);
    }

    [Fact]
    public async Task QueueThatStaysUnavailableFailsAfterMaxClientAttempts()
    {
        await using var api = await CallbackServer.StartAsync();
        api.Respond = _ => new Reply(503);
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), ProdQueue());

        var failure = await Assert.ThrowsAsync<CloudTasksException>(
            () => client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(Scenario.NewId(), DateTimeOffset.UtcNow)));

        Assert.Equal(4, api.Received.Count);
        Assert.Contains("after 4 attempts: HTTP 503", failure.Message);
        Assert.True(failure.IsTransient);
    }

    [Fact]
    public async Task RetriesStopWhenTheTotalTimeoutRunsOutSoThePushCanAnswerInTime()
    {
        await using var api = await CallbackServer.StartAsync();
        api.Respond = _ => new Reply(503);
        var settings = ProdQueue();
        settings["PulseCart:CloudTasks:MaxClientAttempts"] = "20";
        settings["PulseCart:CloudTasks:ClientRetryBaseDelay"] = "00:00:00.400";
        settings["PulseCart:CloudTasks:TotalTimeout"] = "00:00:01";
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), settings);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<CloudTasksException>(
            () => client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(Scenario.NewId(), DateTimeOffset.UtcNow)));

        Assert.InRange(api.Received.Count, 1, 5);
        // 20 attempts backing off from 0.4 s would take minutes; the margin over 1 s is for a loaded CI machine.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
        Assert.Contains("PulseCart:CloudTasks:TotalTimeout", failure.Message);
        Assert.True(failure.IsTransient);
    }

    [Fact]
    public async Task ReminderMoreThanThirtyDaysAheadIsRefusedWithoutCallingTheQueue()
    {
        await using var api = await CallbackServer.StartAsync();
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), ProdQueue());

        var failure = await Assert.ThrowsAsync<CloudTasksRejectedException>(
            () => client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(Scenario.NewId(), DateTimeOffset.UtcNow.AddDays(31))));

        Assert.Contains("more than 30 days ahead", failure.Message);
        Assert.False(failure.IsTransient);
        Assert.Empty(api.Received);
    }

    [Fact]
    public async Task QueueRefusingAScheduleTimeAsTooFarAheadIsAPermanentRejectionNotARetry()
    {
        // The queue's clock is two days behind ours: 29.5 days ahead here is 31.5 days there, which Cloud Tasks refuses.
        await using var twin = await EmulatorHost.StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-2)));
        await using var client = Scenario.Client(twin.CloudTasksBaseUrl, new Uri("https://consumer.example/"));

        var failure = await Assert.ThrowsAsync<CloudTasksRejectedException>(
            () => client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(Scenario.NewId(), DateTimeOffset.UtcNow.AddDays(29.5))));

        Assert.Equal(HttpStatusCode.BadRequest, failure.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", failure.GoogleStatus);
        Assert.Contains("30 days", failure.Message);
        Assert.False(failure.IsTransient);
        Assert.Empty(twin.Emulator.Attempts);
    }

    [Fact]
    public async Task PauseResumeAndStateAreTheQueueMethodsOfTheRestApi()
    {
        await using var api = await CallbackServer.StartAsync();
        api.Respond = n => new Reply(200, Body: n switch
        {
            0 => $$"""{"name":"{{QueuePath}}","state":"RUNNING"}""",
            1 => $$"""{"name":"{{QueuePath}}","state":"PAUSED"}""",
            2 => $$"""{"name":"{{QueuePath}}","state":2}""",
            _ => $$"""{"name":"{{QueuePath}}","state":"RUNNING"}""",
        });
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), ProdQueue(), new FixedToken("token-1"));
        var queue = client.GetRequiredService<CloudTasksQueue>();

        Assert.Equal(QueueState.Running, await queue.GetStateAsync());
        Assert.Equal(QueueState.Paused, await queue.PauseAsync());
        Assert.Equal(QueueState.Paused, await queue.GetStateAsync());
        Assert.Equal(QueueState.Running, await queue.ResumeAsync());

        Assert.Equal(
            [("GET", $"/v2/{QueuePath}"), ("POST", $"/v2/{QueuePath}:pause"), ("GET", $"/v2/{QueuePath}"), ("POST", $"/v2/{QueuePath}:resume")],
            api.Received.Select(request => (request.Method, request.Path)));
        Assert.All(api.Received, request => Assert.Equal("Bearer token-1", request.Header("Authorization")));
        Assert.Equal("{}", api.Received[1].BodyText);
    }

    [Fact]
    public async Task PauseRefusedForLackOfPermissionSaysSoAndIsNotRetried()
    {
        await using var api = await CallbackServer.StartAsync();
        api.Respond = _ => new Reply(403, Body: GoogleError(403, "PERMISSION_DENIED", "The principal lacks cloudtasks.queues.pause"));
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), ProdQueue());

        var failure = await Assert.ThrowsAsync<CloudTasksRejectedException>(() => client.GetRequiredService<CloudTasksQueue>().PauseAsync());

        Assert.Equal(
            $"Cloud Tasks refused to pause dispatching on queue {QueuePath}: HTTP 403 PERMISSION_DENIED: The principal lacks cloudtasks.queues.pause",
            failure.Message);
        Assert.Equal(HttpStatusCode.Forbidden, failure.StatusCode);
        Assert.Single(api.Received);
    }

    public static TheoryData<string, bool> TokenFailures => new()
    {
        { "token service 500", true },
        { "token service 400 invalid_grant", false },
        { "no credentials", false },
        { "token service hangs", true },
    };

    [Theory]
    [MemberData(nameof(TokenFailures))]
    public async Task AFailureToGetAnAccessTokenIsACloudTasksFailureRetriedOnlyWhenItCanPass(string failure, bool retried)
    {
        await using var api = await CallbackServer.StartAsync();
        var settings = ProdQueue();
        settings["PulseCart:CloudTasks:TotalTimeout"] = "00:00:01";
        await using var client = Scenario.Client(api.BaseAddress, new Uri("https://consumer.example/"), settings, new FailingToken(failure));
        var started = DateTimeOffset.UtcNow;

        var thrown = await Assert.ThrowsAnyAsync<CloudTasksException>(
            () => client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(Scenario.NewId(), DateTimeOffset.UtcNow.AddMinutes(5))));

        Assert.Equal(retried, thrown.IsTransient);
        Assert.Contains("access token", thrown.Message);
        Assert.Empty(api.Received);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(5), "bounded by TotalTimeout");
    }

    private sealed class FailingToken(string failure) : IAccessTokenSource
    {
        public async ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken = default)
        {
            switch (failure)
            {
                case "token service hangs":
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    return null;
                case "no credentials":
                    throw new InvalidOperationException("The Application Default Credentials are not available.");
                default:
                    var status = failure.Contains("500") ? HttpStatusCode.InternalServerError : HttpStatusCode.BadRequest;
                    throw new global::Google.Apis.Auth.OAuth2.Responses.TokenResponseException(
                        new global::Google.Apis.Auth.OAuth2.Responses.TokenErrorResponse { Error = status == HttpStatusCode.BadRequest ? "invalid_grant" : "internal_failure" },
                        status);
            }
        }
    }

    private static Dictionary<string, string?> ProdQueue() => new()
    {
        ["PulseCart:CloudTasks:ProjectId"] = "pulsecart-prod",
        ["PulseCart:CloudTasks:Location"] = "europe-west1",
    };

    private static string GoogleError(int code, string status, string message) =>
        $$$"""{"error":{"code":{{{code}}},"message":"{{{message}}}","status":"{{{status}}}"}}""";

    private sealed class FixedToken(string token) : IAccessTokenSource
    {
        public ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(token);
    }
}
