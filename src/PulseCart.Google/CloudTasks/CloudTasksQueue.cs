using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Google.Credentials;
using PulseCart.Grains.Reminders;

namespace PulseCart.Google.CloudTasks;

/// <summary>
/// Schedules reminder callbacks as Cloud Tasks HTTP tasks through the v2 REST API (or the embedded emulator, which speaks
/// the same API). Task names are derived from the reminder id, so a repeated schedule is answered with ALREADY_EXISTS,
/// which counts as success.
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

    private static readonly TimeSpan MaxClientRetryDelay = TimeSpan.FromSeconds(30);
    private static readonly IReadOnlyDictionary<string, string> CallbackHeaders =
        new Dictionary<string, string> { ["Content-Type"] = "application/json" };

    private readonly CloudTasksOptions _options = options.Value;

    public async Task<string> ScheduleAsync(ReminderTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        var queuePath = _options.QueuePath;
        if (!TaskIdPattern().IsMatch(task.ReminderId))
        {
            throw new ArgumentException(
                $"Reminder id '{task.ReminderId}' cannot be a Cloud Tasks task id on queue {queuePath}: use 1-500 of [A-Za-z0-9_-].",
                nameof(task));
        }

        var taskName = $"{queuePath}/tasks/{task.ReminderId}";

        // Rejecting here, not clamping: a reminder fired early would nag a shopper who may still be shopping.
        if (task.DueAt - timeProvider.GetUtcNow() > MaxScheduleAhead)
        {
            throw new CloudTasksException(
                $"Cloud Tasks cannot schedule task {task.ReminderId} on queue {queuePath}: due at {task.DueAt:O} is more than 30 days ahead.");
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(CreateRequest(task, taskName), CloudTasksRestJsonContext.Default.CreateTaskRequest);
        var outcome = await SendAsync(HttpMethod.Post, $"{queuePath}/tasks", body, task.ReminderId, "create", HttpStatusCode.Conflict, cancellationToken)
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

        var outcome = await SendAsync(HttpMethod.Delete, fullName, body: null, match.Groups["task"].Value, "delete", HttpStatusCode.NotFound, cancellationToken)
            .ConfigureAwait(false);
        if (outcome == HttpStatusCode.NotFound)
        {
            logger.LogDebug("Cloud Tasks task {TaskName} was already gone", fullName);
        }
    }

    private CreateTaskRequest CreateRequest(ReminderTask task, string taskName)
    {
        var callback = new CartReminderCallback(task.ReminderId, task.CartId, task.UserId, task.EventId, task.DueAt);
        var callbackBody = JsonSerializer.SerializeToUtf8Bytes(callback, CartReminderJsonContext.Default.CartReminderCallback);
        var oidcToken = string.IsNullOrWhiteSpace(_options.ServiceAccountEmail)
            ? null
            : new CloudTaskOidcToken(_options.ServiceAccountEmail, _options.EffectiveAudience);
        return new CreateTaskRequest(new CloudTaskResource(
            taskName,
            GoogleWireFormat.Timestamp(task.DueAt),
            GoogleWireFormat.Duration(_options.DispatchDeadline),
            new CloudTaskHttpRequest(_options.CallbackUrl.AbsoluteUri, "POST", CallbackHeaders, Convert.ToBase64String(callbackBody), oidcToken)));
    }

    /// <summary>Sends one API call with retries; returns the status that ended it (a 2xx or <paramref name="alsoSuccess"/>).</summary>
    private async Task<HttpStatusCode> SendAsync(
        HttpMethod method,
        string resourcePath,
        byte[]? body,
        string taskId,
        string operation,
        HttpStatusCode alsoSuccess,
        CancellationToken cancellationToken)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        var uri = new Uri($"{_options.BaseUrl.AbsoluteUri.TrimEnd('/')}/v2/{resourcePath}");
        var queuePath = _options.QueuePath;
        var started = timeProvider.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            // The whole call, retries included, must end inside the push that is waiting for it.
            var left = _options.TotalTimeout - timeProvider.GetElapsedTime(started);
            using var attemptBudget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptBudget.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            string failure;
            HttpStatusCode? status = null;
            string? googleStatus = null;
            Exception? exception = null;
            TimeSpan? retryAfter = null;
            try
            {
                using var request = new HttpRequestMessage(method, uri);
                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                }

                var token = await accessTokens.GetAccessTokenAsync(attemptBudget.Token).ConfigureAwait(false);
                if (token is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                }

                using var response = await client.SendAsync(request, attemptBudget.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode || response.StatusCode == alsoSuccess)
                {
                    return response.StatusCode;
                }

                status = response.StatusCode;
                var error = await ReadErrorAsync(response, attemptBudget.Token).ConfigureAwait(false);
                googleStatus = error?.Status;
                failure = $"HTTP {(int)response.StatusCode}{(googleStatus is null ? "" : $" {googleStatus}")}: {error?.Message ?? response.ReasonPhrase}";
                if (!IsTransient(response.StatusCode))
                {
                    throw new CloudTasksException(
                        $"Cloud Tasks refused to {operation} task {taskId} on queue {queuePath}: {failure}", status, googleStatus);
                }

                retryAfter = RetryAfter(response.Headers.RetryAfter);
            }
            catch (HttpRequestException requestException)
            {
                exception = requestException;
                failure = $"no answer ({requestException.Message})";
            }
            catch (OperationCanceledException timeout) when (!cancellationToken.IsCancellationRequested)
            {
                exception = timeout;
                failure = $"no answer within {Math.Min(_options.RequestTimeout.TotalSeconds, Math.Max(left.TotalSeconds, 0)):0.#} s";
            }

            var delay = ClientRetryDelay(attempt, retryAfter);
            if (attempt >= _options.MaxClientAttempts || timeProvider.GetElapsedTime(started) + delay >= _options.TotalTimeout)
            {
                throw new CloudTasksException(
                    $"Cloud Tasks could not {operation} task {taskId} on queue {queuePath} after {attempt} attempts: {failure} " +
                    $"({timeProvider.GetElapsedTime(started).TotalSeconds:0.#} s of PulseCart:CloudTasks:TotalTimeout {_options.TotalTimeout.TotalSeconds:0.#} s)",
                    status, googleStatus, exception);
            }

            logger.LogWarning(
                "Cloud Tasks {Operation} of task {TaskId} on queue {Queue} failed ({Failure}); attempt {Attempt} of {MaxAttempts}, retrying in {Delay}",
                operation, taskId, queuePath, failure, attempt, _options.MaxClientAttempts, delay);
            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan ClientRetryDelay(int attempt, TimeSpan? retryAfter)
    {
        // Jitter keeps many grains that failed together from retrying in lockstep.
        var exponential = _options.ClientRetryBaseDelay * Math.Pow(2, attempt - 1) * (0.5 + Random.Shared.NextDouble());
        var delay = retryAfter is { } floor && floor > exponential ? floor : exponential;
        return delay > MaxClientRetryDelay ? MaxClientRetryDelay : delay;
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - timeProvider.GetUtcNow(),
            _ => null,
        };

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)status >= 500;

    private static async Task<GoogleError?> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            return content.Length == 0
                ? null
                : JsonSerializer.Deserialize(content, CloudTasksRestJsonContext.Default.GoogleErrorResponse)?.Error;
        }
        catch (JsonException)
        {
            // Proxies and load balancers answer with HTML; the status code alone still says what happened.
            return null;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,500}$")]
    private static partial Regex TaskIdPattern();

    [GeneratedRegex("^projects/[^/]+/locations/[^/]+/queues/[^/]+/tasks/(?<task>[A-Za-z0-9_-]{1,500})$")]
    private static partial Regex TaskNamePattern();
}
