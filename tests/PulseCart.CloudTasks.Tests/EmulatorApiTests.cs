using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using PulseCart.CloudTasks.Tests.Support;

namespace PulseCart.CloudTasks.Tests;

/// <summary>The emulator's REST answers to requests Cloud Tasks would refuse, and its task resource.</summary>
public sealed class EmulatorApiTests
{
    [Fact]
    public async Task InvalidCreateRequestsGetGoogleErrors()
    {
        await using var scenario = await Scenario.StartAsync();
        var url = scenario.CallbackUrl.AbsoluteUri;
        var tooLate = DateTimeOffset.UtcNow.AddDays(31).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        (string Json, string Queue, int Code, string Status, string Message)[] cases =
        [
            (Scenario.TaskJson(url, name: $"{Scenario.QueueName}/tasks/not valid!"), Scenario.QueueName, 400, "INVALID_ARGUMENT", "Task ID"),
            (Scenario.TaskJson(url, name: $"{Scenario.QueueName}/tasks/{new string('a', 501)}"), Scenario.QueueName, 400, "INVALID_ARGUMENT", "500 characters"),
            (Scenario.TaskJson(url, scheduleTime: tooLate), Scenario.QueueName, 400, "INVALID_ARGUMENT", "30 days"),
            (Scenario.TaskJson(url: null), Scenario.QueueName, 400, "INVALID_ARGUMENT", "url"),
            (Scenario.TaskJson(url, dispatchDeadline: "10s"), Scenario.QueueName, 400, "INVALID_ARGUMENT", "dispatch_deadline"),
            (Scenario.TaskJson(url, dispatchDeadline: "1801s"), Scenario.QueueName, 400, "INVALID_ARGUMENT", "dispatch_deadline"),
            ("""{"task":""", Scenario.QueueName, 400, "INVALID_ARGUMENT", "JSON"),
            (WithHttp(url, "body", Convert.ToBase64String(new byte[(1 << 20) + 1])), Scenario.QueueName, 400, "INVALID_ARGUMENT", "Task size too large"),
            (WithHttp(url, "httpMethod", 99), Scenario.QueueName, 400, "INVALID_ARGUMENT", "http_method"),
            (WithHttp(url, "httpMethod", "BOGUS"), Scenario.QueueName, 400, "INVALID_ARGUMENT", "BOGUS"),
            (WithHttp(url, "headers", new JsonObject { ["X-A"] = "line\r\nX-CloudTasks-TaskRetryCount: 99" }), Scenario.QueueName, 400, "INVALID_ARGUMENT", "line break"),
            (WithHttp(url, "headers", new JsonObject { ["Bad Header"] = "v" }), Scenario.QueueName, 400, "INVALID_ARGUMENT", "header name"),
            (WithHttp(url, "headers", new JsonObject { ["X-Name"] = "Zoë" }), Scenario.QueueName, 400, "INVALID_ARGUMENT", "outside ASCII"),
            (WithHttp(url, "headers", new JsonObject { ["X-Big"] = new string('a', 80 * 1024) }), Scenario.QueueName, 400, "INVALID_ARGUMENT", "80 KB"),
            (Scenario.TaskJson(url), "projects/pulsecart-local/locations/local/queues/nope", 404, "NOT_FOUND", "nope"),
        ];

        foreach (var (json, queue, code, status, message) in cases)
        {
            using var response = await scenario.CreateRawAsync(json, queue);
            var error = await GoogleErrors.ReadAsync(response);
            Assert.Equal(code, (int)response.StatusCode);
            Assert.Equal((code, status), (error.Code, error.Status));
            Assert.Contains(message, error.Message);
        }

        var listed = await scenario.Emulator.Http.GetFromJsonAsync<JsonElement>($"/emulators/cloudtasks/v2/{Scenario.QueueName}/tasks");
        Assert.False(listed.TryGetProperty("tasks", out var tasks) && tasks.GetArrayLength() > 0);
    }

    [Fact]
    public async Task AFullPageOfLargeTasksHoldsTwoMebibytesOfBodiesAndTheRestFollowOnTheNextPages()
    {
        await using var scenario = await Scenario.StartAsync();
        var body = Convert.ToBase64String(new byte[900_000]);
        var later = scenario.Clock.GetUtcNow().AddHours(1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        for (var task = 0; task < 5; task++)
        {
            var request = JsonNode.Parse(Scenario.TaskJson(scenario.CallbackUrl.AbsoluteUri, scheduleTime: later))!;
            request["task"]!["httpRequest"]!["body"] = body;
            using var created = await scenario.CreateRawAsync(request.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        var pages = new List<int>();
        var token = "";
        do
        {
            var page = await scenario.Emulator.Http.GetFromJsonAsync<JsonElement>(
                $"/emulators/cloudtasks/v2/{Scenario.QueueName}/tasks?responseView=FULL&pageSize=10&pageToken={token}");
            pages.Add(page.GetProperty("tasks").GetArrayLength());
            token = page.TryGetProperty("nextPageToken", out var next) ? next.GetString()! : "";
        }
        while (token.Length > 0);
        var basic = await scenario.Emulator.Http.GetFromJsonAsync<JsonElement>($"/emulators/cloudtasks/v2/{Scenario.QueueName}/tasks?pageSize=10");

        Assert.Equal([2, 2, 1], pages);
        Assert.Equal(5, basic.GetProperty("tasks").GetArrayLength());
    }

    private static string WithHttp(string url, string field, JsonNode value)
    {
        var request = JsonNode.Parse(Scenario.TaskJson(url))!;
        request["task"]!["httpRequest"]![field] = value;
        return request.ToJsonString();
    }

    [Fact]
    public async Task TaskWithoutNameGetsAGeneratedIdAndAGoogleShapedResource()
    {
        await using var scenario = await Scenario.StartAsync();
        var scheduleTime = scenario.Clock.GetUtcNow().AddMinutes(3);
        var body = Convert.ToBase64String("{\"hello\":1}"u8.ToArray());

        var request = new JsonObject
        {
            ["responseView"] = "FULL",
            ["task"] = new JsonObject
            {
                ["scheduleTime"] = $"{scheduleTime.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss}.000000000Z",
                ["futureField"] = new JsonObject { ["x"] = 1 },
                ["httpRequest"] = new JsonObject
                {
                    ["url"] = scenario.CallbackUrl.AbsoluteUri,
                    ["httpMethod"] = "PUT",
                    ["headers"] = new JsonObject { ["X-Custom"] = "yes" },
                    ["body"] = body,
                },
            },
        };

        using var created = await scenario.CreateRawAsync(request.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var task = await created.Content.ReadFromJsonAsync<JsonElement>();
        var name = task.GetProperty("name").GetString()!;
        Assert.Matches($"^{Scenario.QueueName}/tasks/[0-9]+$", name);
        Assert.Equal($"{scheduleTime.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss}Z", task.GetProperty("scheduleTime").GetString());
        Assert.Equal("600s", task.GetProperty("dispatchDeadline").GetString());
        Assert.False(task.TryGetProperty("dispatchCount", out _), "proto3 JSON leaves a zero count out, as Cloud Tasks does");
        Assert.Equal("FULL", task.GetProperty("view").GetString());
        Assert.Equal(body, task.GetProperty("httpRequest").GetProperty("body").GetString());

        await scenario.IdleAsync();
        scenario.Clock.Advance(TimeSpan.FromMinutes(3));
        var callback = await scenario.Handler.NextAsync();
        Assert.Equal("PUT", callback.Method);
        Assert.Equal("yes", callback.Header("X-Custom"));
        Assert.Equal("application/octet-stream", callback.Header("Content-Type"));
        Assert.Equal("{\"hello\":1}", callback.BodyText);
        Assert.Null(callback.Header("Authorization"));
    }
}
