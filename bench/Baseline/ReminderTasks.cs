using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PulseCart.Bench.Baseline;

/// <summary>
/// The seed's reminder: one Cloud Tasks v2 createTask over REST per new abandonment, due 2 h after it happened, named by
/// a hash of cart and event id (as the consumer names it), ALREADY_EXISTS counting as done. Without
/// <c>PulseCart:CloudTasks:BaseUrl</c> it schedules nothing.
/// </summary>
public sealed class ReminderTasks
{
    private static readonly TimeSpan Delay = TimeSpan.FromHours(2);

    private readonly HttpClient? _http;
    private readonly Uri? _createUrl;
    private readonly string _queuePath = "";
    private readonly string _callbackUrl = "";

    public ReminderTasks(IConfiguration configuration)
    {
        var section = configuration.GetSection("PulseCart:CloudTasks");
        if (section["BaseUrl"] is not { Length: > 0 } baseUrl)
        {
            return;
        }

        _queuePath = $"projects/{section["ProjectId"]}/locations/{section["Location"]}/queues/{section["Queue"] ?? "pulsecart-cart-reminders"}";
        _createUrl = new Uri($"{baseUrl.TrimEnd('/')}/v2/{_queuePath}/tasks");
        _callbackUrl = $"{section["CallbackBaseUrl"]?.TrimEnd('/')}/tasks/cart-reminder";
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = TimeSpan.FromSeconds(8),
        };
    }

    public bool Enabled => _http is not null;

    /// <summary>Creates the reminder task; false when Cloud Tasks did not take it (the push is then answered 503 and redelivered).</summary>
    public async Task<bool> CreateAsync(SeedEvent abandoned, CancellationToken cancellationToken)
    {
        if (_http is null || abandoned.CartId is null || abandoned.OccurredAt is not { } occurredAt)
        {
            return true;
        }

        var reminderId = ReminderId(abandoned.CartId, abandoned.EventId);
        var dueAt = occurredAt + Delay;
        var callback = JsonSerializer.SerializeToUtf8Bytes(
            new ReminderCallback(reminderId, abandoned.CartId, abandoned.UserId ?? "", abandoned.EventId, dueAt),
            ReminderJsonContext.Default.ReminderCallback);
        var request = new CreateTask(new TaskResource(
            $"{_queuePath}/tasks/{reminderId}",
            dueAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            "600s",
            new TaskHttpRequest(_callbackUrl, "POST", JsonHeaders, Convert.ToBase64String(callback))));
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, TaskJsonContext.Default.CreateTask));
        content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        try
        {
            using var response = await _http.PostAsync(_createUrl, content, cancellationToken);
            return response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static readonly Dictionary<string, string> JsonHeaders = new() { ["Content-Type"] = "application/json" };

    private static string ReminderId(string cartId, string eventId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{cartId}\n{eventId}")).AsSpan(0, 16));
}

public sealed record CreateTask(TaskResource Task);

public sealed record TaskResource(string Name, string ScheduleTime, string DispatchDeadline, TaskHttpRequest HttpRequest);

public sealed record TaskHttpRequest(string Url, string HttpMethod, Dictionary<string, string> Headers, string Body);

public sealed record ReminderCallback(string ReminderId, string CartId, string UserId, string EventId, DateTimeOffset DueAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CreateTask))]
internal sealed partial class TaskJsonContext : JsonSerializerContext;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ReminderCallback))]
internal sealed partial class ReminderJsonContext : JsonSerializerContext;
