using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;
using PulseCart.GoogleApis;
using PulseCart.GoogleApis.CloudTasks.V2;
using PulseCart.Google.Credentials;
using PulseCart.Grains.Reminders;
using CloudTask = PulseCart.GoogleApis.CloudTasks.V2.Task;
using HttpMethod = System.Net.Http.HttpMethod;
using Task = System.Threading.Tasks.Task;

namespace PulseCart.Google.CloudTasks;

/// <summary>
/// Schedules reminder callbacks as Cloud Tasks HTTP tasks through the v2 REST API (or a twin, which speaks the same API).
/// Task names are derived from the reminder id, so a repeated schedule is answered with ALREADY_EXISTS, which counts as
/// success. Retries, jitter and timeouts come from the HTTP client's resilience pipeline (<see cref="CloudTasksRegistration"/>).
/// </summary>
public sealed partial class CloudTasksQueue(
    IHttpClientFactory httpClientFactory,
    IOptions<CloudTasksOptions> options,
    IAccessTokenSource accessTokens,
    TimeProvider timeProvider,
    ILogger<CloudTasksQueue> logger) : ITaskQueue
{
    /// <summary>The named <see cref="HttpClient"/> this queue sends API calls with.</summary>
    public const string HttpClientName = "PulseCart.CloudTasks";

    /// <summary>How far ahead Cloud Tasks accepts a <c>scheduleTime</c>.</summary>
    public static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(30);

    /// <summary>What the resilience pipeline's retry callback names in its log line, and where it counts attempts.</summary>
    internal static readonly ResiliencePropertyKey<CallRecord> CallKey = new("PulseCart.CloudTasks.Call");

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private readonly CloudTasksOptions _options = options.Value;

    public async Task<string> ScheduleAsync(ReminderTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        var queuePath = _options.QueuePath;
        var taskId = task.TaskId ?? task.ReminderId;
        if (!TaskIdPattern().IsMatch(taskId))
        {
            throw new ArgumentException(
                $"'{taskId}' cannot be a Cloud Tasks task id on queue {queuePath}: use 1-500 of [A-Za-z0-9_-].",
                nameof(task));
        }

        var taskName = $"{queuePath}/tasks/{taskId}";

        // Rejecting here, not clamping: a reminder fired early would nag a shopper who may still be shopping.
        if (task.DueAt - timeProvider.GetUtcNow() > MaxScheduleAhead)
        {
            throw new CloudTasksRejectedException(
                $"Cloud Tasks cannot schedule task {taskId} on queue {queuePath}: due at {task.DueAt:O} is more than 30 days ahead.",
                HttpStatusCode.BadRequest,
                "INVALID_ARGUMENT");
        }

        var body = JsonFormatter.Default.Format(CreateRequest(task, taskName));
        var (outcome, _) = await SendAsync(HttpMethod.Post, $"{queuePath}/tasks", body, $"create task {taskId}", HttpStatusCode.Conflict, readBody: false, cancellationToken)
            .ConfigureAwait(false);
        if (outcome == HttpStatusCode.Conflict)
        {
            logger.LogDebug("Cloud Tasks task {TaskName} already exists; treating it as scheduled", taskName);
        }

        return taskName;
    }

    public async Task DeleteAsync(string taskName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(taskName);
        var fullName = taskName.StartsWith("projects/", StringComparison.Ordinal) ? taskName : $"{_options.QueuePath}/tasks/{taskName}";
        var match = TaskNamePattern().Match(fullName);
        if (!match.Success)
        {
            throw new ArgumentException($"'{taskName}' is not a Cloud Tasks task name (projects/P/locations/L/queues/Q/tasks/ID).", nameof(taskName));
        }

        var (outcome, _) = await SendAsync(
                HttpMethod.Delete, fullName, body: null, $"delete task {match.Groups["task"].Value}", HttpStatusCode.NotFound, readBody: false, cancellationToken)
            .ConfigureAwait(false);
        if (outcome == HttpStatusCode.NotFound)
        {
            logger.LogDebug("Cloud Tasks task {TaskName} was already gone", fullName);
        }
    }

    private CreateTaskRequest CreateRequest(ReminderTask task, string taskName)
    {
        var callback = new CartReminderCallback(task.ReminderId, task.CartId, task.UserId, task.EventId, task.DueAt);
        var http = new HttpRequest
        {
            Url = _options.CallbackUrl.AbsoluteUri,
            HttpMethod = GoogleApis.CloudTasks.V2.HttpMethod.Post,
            Headers = { ["Content-Type"] = "application/json" },
            Body = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(callback, CartReminderJsonContext.Default.CartReminderCallback)),
        };
        if (!string.IsNullOrWhiteSpace(_options.ServiceAccountEmail))
        {
            http.OidcToken = new OidcToken { ServiceAccountEmail = _options.ServiceAccountEmail, Audience = _options.EffectiveAudience };
        }

        return new CreateTaskRequest
        {
            Task = new CloudTask
            {
                Name = taskName,
                ScheduleTime = Timestamp.FromDateTimeOffset(task.DueAt),
                DispatchDeadline = Duration.FromTimeSpan(_options.DispatchDeadline),
                HttpRequest = http,
            },
        };
    }

    /// <summary>
    /// Sends one API call through the resilience pipeline (retries on 429, 5xx and no answer, within
    /// <c>TotalTimeout</c>); returns the status that ended it (a 2xx or <paramref name="alsoSuccess"/>) and, with
    /// <paramref name="readBody"/>, the answer's body. <paramref name="action"/> (<c>create task X</c>) names the call in
    /// errors and in the retry log.
    /// </summary>
    private async Task<(HttpStatusCode Status, string? Body)> SendAsync(
        HttpMethod method,
        string resourcePath,
        string? body,
        string action,
        HttpStatusCode alsoSuccess,
        bool readBody,
        CancellationToken cancellationToken)
    {
        var queuePath = _options.QueuePath;
        var call = new CallRecord(action, queuePath);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(CallKey, call);
        var started = timeProvider.GetTimestamp();
        string Spent() =>
            $"({call.Attempts} attempts, {timeProvider.GetElapsedTime(started).TotalSeconds:0.#} s of PulseCart:CloudTasks:TotalTimeout {_options.TotalTimeout.TotalSeconds:0.#} s)";
        try
        {
            using var request = new HttpRequestMessage(method, ApiUri(resourcePath));
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
            }

            await AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);
            request.SetResilienceContext(context);
            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode || response.StatusCode == alsoSuccess)
            {
                return (response.StatusCode, readBody ? await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false) : null);
            }

            var error = await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            var googleStatus = error?.Status is { Length: > 0 } status ? status : null;
            var failure = $"HTTP {(int)response.StatusCode}{(googleStatus is null ? "" : $" {googleStatus}")}: {error?.Message ?? response.ReasonPhrase}";
            if (!RetryableStatus.Is(response.StatusCode))
            {
                throw new CloudTasksRejectedException(
                    $"Cloud Tasks refused to {action} on queue {queuePath}: {failure}", response.StatusCode, googleStatus);
            }

            throw new CloudTasksException(
                $"Cloud Tasks could not {action} on queue {queuePath} after {call.Attempts} attempts: {failure} {Spent()}",
                response.StatusCode, googleStatus);
        }
        catch (HttpRequestException exception)
        {
            throw new CloudTasksException(
                $"Cloud Tasks could not {action} on queue {queuePath} after {call.Attempts} attempts: no answer ({exception.Message}) {Spent()}",
                innerException: exception);
        }
        catch (TimeoutRejectedException exception)
        {
            throw new CloudTasksException(
                $"Cloud Tasks could not {action} on queue {queuePath} after {call.Attempts} attempts: no answer in time {Spent()}",
                innerException: exception);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Uri ApiUri(string pathAndQuery) => new($"{_options.BaseUrl.AbsoluteUri.TrimEnd('/')}/v2/{pathAndQuery}");

    private async Task AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // One token for every attempt of the call: Google's access tokens last an hour.
        string? token;
        try
        {
            token = await AccessTokenException.GetAsync(accessTokens, _options.TotalTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AccessTokenException exception)
        {
            var message = $"Cloud Tasks was not called on queue {_options.QueuePath}: {exception.Message}";
            throw exception.IsTransient
                ? new CloudTasksException(message, innerException: exception)
                : new CloudTasksRejectedException(message, HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    private static async Task<RestError?> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var content = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return content.Length == 0 ? null : Parser.Parse<RestErrorResponse>(content).Error;
        }
        catch (Exception exception) when (exception is InvalidProtocolBufferException or InvalidJsonException)
        {
            // Proxies and load balancers answer with HTML; the status code alone still says what happened.
            return null;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,500}$")]
    private static partial Regex TaskIdPattern();

    [GeneratedRegex("^projects/[^/]+/locations/[^/]+/queues/[^/]+/tasks/(?<task>[A-Za-z0-9_-]{1,500})$")]
    private static partial Regex TaskNamePattern();

    /// <summary>One API call as the retry log and the final error describe it: what it was and how many attempts it took.</summary>
    internal sealed class CallRecord(string description, string queue)
    {
        private int _attempts = 1;

        public string Description { get; } = description;

        public string Queue { get; } = queue;

        public int Attempts => Volatile.Read(ref _attempts);

        public void Retrying() => Interlocked.Increment(ref _attempts);
    }
}
