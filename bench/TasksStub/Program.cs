using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

// Benchmark reference, not product: answers Cloud Tasks v2 createTask and deleteTask as Google does, and never
// dispatches (the bench's reminders fall due hours later). The consumer and the baseline both create their reminder
// tasks here, over HTTP, so that scheduling costs the two services the same and neither carries an emulator's CPU.
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls($"http://127.0.0.1:{builder.Configuration["PORT"] ?? "8083"}");

var app = builder.Build();
var tasks = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
var counts = new long[4]; // created, already existed, deleted, calls that carried an Authorization header
const int Created = 0, AlreadyExisted = 1, Deleted = 2, Authorized = 3;
const string QueueRoute = "/v2/projects/{project}/locations/{location}/queues/{queue}/tasks";

app.MapPost(QueueRoute, async (string project, string location, string queue, HttpRequest request) =>
{
    CountAuthorization(request);
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    if (!TryReadTaskName(body.GetBuffer().AsSpan(0, (int)body.Length), out var name))
    {
        return Error(400, "INVALID_ARGUMENT", "Request contains an invalid argument: task is required.");
    }

    // A task without a name gets one, as Cloud Tasks gives it; a named one keeps its name for ~1 hour even after
    // deletion, so any reuse is ALREADY_EXISTS (the stub simply never forgets).
    name ??= $"projects/{project}/locations/{location}/queues/{queue}/tasks/{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";
    if (!tasks.TryAdd(name, 0))
    {
        Interlocked.Increment(ref counts[AlreadyExisted]);
        return Error(409, "ALREADY_EXISTS", "Requested entity already exists");
    }

    Interlocked.Increment(ref counts[Created]);
    // The BASIC view Cloud Tasks answers with, minus the fields no caller here reads.
    return Results.Text(
        $"{{\"name\":\"{JsonEncodedText.Encode(name)}\",\"createTime\":\"{DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"view\":\"BASIC\"}}",
        "application/json", statusCode: 200);
});

app.MapDelete($"{QueueRoute}/{{task}}", (HttpRequest request) =>
{
    CountAuthorization(request);
    Interlocked.Increment(ref counts[Deleted]);
    return Results.Text("{}", "application/json", statusCode: 200);
});

app.MapGet("/health/ready", () => TypedResults.Ok());
app.MapGet("/stats", () => TypedResults.Json(new JsonObject
{
    ["created"] = Interlocked.Read(ref counts[Created]),
    ["already_exists"] = Interlocked.Read(ref counts[AlreadyExisted]),
    ["deleted"] = Interlocked.Read(ref counts[Deleted]),
    ["authorized_calls"] = Interlocked.Read(ref counts[Authorized]),
}));
app.Run();

void CountAuthorization(HttpRequest request)
{
    if (request.Headers.Authorization.Count > 0)
    {
        Interlocked.Increment(ref counts[Authorized]);
    }
}

// task.name from {"task":{...}}, read without building a document: the stub's CPU competes with the services'.
// False when there is no task object; name is null when the task has none.
static bool TryReadTaskName(ReadOnlySpan<byte> json, out string? name)
{
    name = null;
    var reader = new Utf8JsonReader(json);
    var inTask = false;
    try
    {
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == 1 && reader.ValueTextEquals("task"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                inTask = true;
            }
            else if (inTask && reader.CurrentDepth == 2 && reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                name = reader.GetString();
                return true;
            }
        }
    }
    catch (Exception exception) when (exception is JsonException or InvalidOperationException)
    {
        return false;
    }

    return inTask;
}

static IResult Error(int code, string status, string message) => Results.Text(
    new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status } }.ToJsonString(),
    "application/json", statusCode: code);
