using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>
/// The embedded Cloud Tasks emulator: its queues, the REST operations behind <see cref="CloudTasksEmulatorEndpoints"/>,
/// and what operators and tests can watch: every dispatch attempt (<see cref="Attempts"/>,
/// <see cref="AttemptCompleted"/>), the <c>pulsecart.tasks.dispatch</c> counter, and <see cref="WhenIdleAsync"/>.
/// </summary>
public sealed partial class CloudTasksEmulator
{
    /// <summary>The meter the emulator's instruments belong to.</summary>
    public const string MeterName = "PulseCart.Emulators";

    /// <summary>Counts finished dispatch attempts, tagged <c>outcome</c> = success | retry | failed and <c>queue</c>.</summary>
    public const string DispatchCounterName = "pulsecart.tasks.dispatch";

    /// <summary>The named <see cref="HttpClient"/> dispatches are sent with.</summary>
    public const string HttpClientName = "PulseCart.Emulators.CloudTasks";

    private const int AttemptHistory = 10_000;
    private static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(30);
    private static readonly TimeSpan MinDispatchDeadline = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxDispatchDeadline = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan DefaultDispatchDeadline = TimeSpan.FromMinutes(10);
    private static readonly HashSet<string> HttpMethods = ["POST", "GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"];

    private readonly ICloudTaskStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<CloudTasksEmulator> _logger;
    private readonly Counter<long> _dispatchCounter;
    private readonly Lock _attemptsLock = new();
    private readonly Queue<CloudTaskAttempt> _attempts = new();

    internal CloudTasksEmulator(
        IOptions<CloudTasksEmulatorOptions> options,
        ICloudTaskStore store,
        TimeProvider timeProvider,
        IMeterFactory meterFactory,
        ILogger<CloudTasksEmulator> logger)
    {
        Options = options.Value;
        _store = store;
        _timeProvider = timeProvider;
        _logger = logger;
        Queues = Options.EffectiveQueues.ToDictionary(queue => queue.Name, queue => new QueueRuntime(queue), StringComparer.Ordinal);
        _dispatchCounter = meterFactory.Create(MeterName).CreateCounter<long>(
            DispatchCounterName, unit: "{attempt}", description: "Cloud Tasks emulator dispatch attempts by outcome");
    }

    /// <summary>Raised after every dispatch attempt, on the dispatcher's thread; keep handlers quick.</summary>
    public event EventHandler<CloudTaskAttempt>? AttemptCompleted;

    /// <summary>The full names of the emulated queues.</summary>
    public IReadOnlyCollection<string> QueueNames => [.. Queues.Keys];

    /// <summary>The most recent dispatch attempts (up to 10,000), oldest first.</summary>
    public IReadOnlyList<CloudTaskAttempt> Attempts
    {
        get
        {
            lock (_attemptsLock)
            {
                return [.. _attempts];
            }
        }
    }

    internal CloudTasksEmulatorOptions Options { get; }

    internal IReadOnlyDictionary<string, QueueRuntime> Queues { get; }

    /// <summary>
    /// Completes once nothing more will happen until the clock moves or a task is created: every queue's dispatcher is
    /// waiting for a time still ahead and no dispatch is outstanding. Tests advance a fake clock, then await this.
    /// </summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken = default) => WaitUntilQuietAsync(allowInFlight: false, cancellationToken);

    /// <summary>Like <see cref="WhenIdleAsync"/>, but dispatches may still be waiting for their handlers.</summary>
    internal Task WhenParkedAsync(CancellationToken cancellationToken = default) => WaitUntilQuietAsync(allowInFlight: true, cancellationToken);

    internal int InFlightCount => Queues.Values.Sum(queue => queue.InFlight.Count);

    internal async Task<TaskResource> CreateTaskAsync(string queueName, CreateTaskRequestResource? request)
    {
        var queue = FindQueue(queueName);
        var resource = request?.Task ?? throw CloudTasksApiException.InvalidArgument("Task is required.");
        var now = _timeProvider.GetUtcNow();
        var task = new EmulatedTask
        {
            Name = TaskNameFor(queue, resource.Name),
            Queue = queue.Name,
            CreateTime = now,
            ScheduleTime = ScheduleTimeOf(resource.ScheduleTime, now),
            DispatchDeadline = DispatchDeadlineOf(resource.DispatchDeadline),
            HttpRequest = HttpRequestOf(resource),
        };

        if (!await _store.TryAddAsync(task, now).ConfigureAwait(false))
        {
            throw CloudTasksApiException.AlreadyExists("Requested entity already exists");
        }

        queue.Wake.Set();
        return ToResource(task, IsFullView(request.ResponseView));
    }

    internal async Task<TaskResource> GetTaskAsync(string queueName, string taskId, string? responseView)
    {
        var queue = FindQueue(queueName);
        var task = await _store.GetAsync($"{queue.Name}/tasks/{taskId}").ConfigureAwait(false)
            ?? throw CloudTasksApiException.NotFound("Requested entity was not found.");
        return ToResource(task, IsFullView(responseView));
    }

    internal async Task<ListTasksResource> ListTasksAsync(string queueName, string? responseView, int? pageSize, string? pageToken)
    {
        var queue = FindQueue(queueName);
        if (pageSize is < 0 or > 1000)
        {
            throw CloudTasksApiException.InvalidArgument("page_size must be between 0 and 1000.");
        }

        var offset = 0;
        if (!string.IsNullOrEmpty(pageToken) && (!int.TryParse(pageToken, out offset) || offset < 0))
        {
            throw CloudTasksApiException.InvalidArgument("Invalid page_token.");
        }

        var size = pageSize is null or 0 ? 1000 : pageSize.Value;
        var tasks = await _store.ListAsync(queue.Name).ConfigureAwait(false);
        var full = IsFullView(responseView);
        var page = tasks.Skip(offset).Take(size).Select(task => ToResource(task, full)).ToList();
        var next = offset + page.Count < tasks.Count ? (offset + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return new ListTasksResource(page, next);
    }

    internal async Task DeleteTaskAsync(string queueName, string taskId)
    {
        var queue = FindQueue(queueName);
        var now = _timeProvider.GetUtcNow();
        if (!await _store.RemoveAsync($"{queue.Name}/tasks/{taskId}", now, now + Options.NameReservation).ConfigureAwait(false))
        {
            throw CloudTasksApiException.NotFound("Requested entity was not found.");
        }
    }

    internal void Record(QueueRuntime queue, CloudTaskAttempt attempt)
    {
        lock (_attemptsLock)
        {
            if (_attempts.Count == AttemptHistory)
            {
                _attempts.Dequeue();
            }

            _attempts.Enqueue(attempt);
        }

        var outcome = attempt.Outcome switch
        {
            CloudTaskAttemptOutcome.Succeeded => "success",
            CloudTaskAttemptOutcome.WillRetry => "retry",
            _ => "failed",
        };
        _dispatchCounter.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("queue", queue.Id));

        try
        {
            AttemptCompleted?.Invoke(this, attempt);
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "An AttemptCompleted handler failed for task {TaskName}", attempt.TaskName);
        }
    }

    private async Task WaitUntilQuietAsync(bool allowInFlight, CancellationToken cancellationToken)
    {
        // Polling in real time is fine here: the state it waits for changes within microseconds of the clock moving.
        while (!Queues.Values.All(queue => queue.IsQuiet(_timeProvider.GetUtcNow(), allowInFlight)))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    private QueueRuntime FindQueue(string queueName) =>
        Queues.TryGetValue(queueName, out var queue)
            ? queue
            : throw CloudTasksApiException.NotFound($"Queue {queueName} does not exist.");

    private static string TaskNameFor(QueueRuntime queue, string? requestedName)
    {
        if (string.IsNullOrEmpty(requestedName))
        {
            // Cloud Tasks generates long numeric ids; random ones avoid hot-spotting as Google advises for chosen ids.
            return $"{queue.Name}/tasks/{Random.Shared.NextInt64(1_000_000_000_000_000_000, long.MaxValue)}";
        }

        var prefix = $"{queue.Name}/tasks/";
        if (!requestedName.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw CloudTasksApiException.InvalidArgument($"Task name {requestedName} must be of the form {prefix}TASK_ID.");
        }

        if (!TaskIdPattern().IsMatch(requestedName.AsSpan(prefix.Length)))
        {
            throw CloudTasksApiException.InvalidArgument(
                "Task ID must contain only letters ([A-Za-z]), numbers ([0-9]), hyphens (-), or underscores (_), at most 500 characters.");
        }

        return requestedName;
    }

    private static DateTimeOffset ScheduleTimeOf(string? scheduleTime, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(scheduleTime))
        {
            return now;
        }

        if (!GoogleWireFormat.TryParseTimestamp(scheduleTime, out var time))
        {
            throw CloudTasksApiException.InvalidArgument($"Invalid schedule_time '{scheduleTime}': expected an RFC 3339 timestamp.");
        }

        if (time - now > MaxScheduleAhead)
        {
            throw CloudTasksApiException.InvalidArgument("The task's schedule_time must be within 30 days of the current time.");
        }

        return time;
    }

    private static TimeSpan DispatchDeadlineOf(string? dispatchDeadline)
    {
        if (string.IsNullOrEmpty(dispatchDeadline))
        {
            return DefaultDispatchDeadline;
        }

        if (!GoogleWireFormat.TryParseDuration(dispatchDeadline, out var deadline) || deadline < MinDispatchDeadline || deadline > MaxDispatchDeadline)
        {
            throw CloudTasksApiException.InvalidArgument($"Invalid dispatch_deadline '{dispatchDeadline}': it must be between 15s and 1800s.");
        }

        return deadline;
    }

    private static EmulatedHttpRequest HttpRequestOf(TaskResource resource)
    {
        if (resource.AppEngineHttpRequest is { ValueKind: not System.Text.Json.JsonValueKind.Null })
        {
            throw CloudTasksApiException.InvalidArgument("The emulator runs HTTP tasks only: set task.httpRequest, not appEngineHttpRequest.");
        }

        var http = resource.HttpRequest ?? throw CloudTasksApiException.InvalidArgument("Task.http_request is required.");
        if (!Uri.TryCreate(http.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw CloudTasksApiException.InvalidArgument("HttpRequest.url is required and must be an absolute http or https URL.");
        }

        var method = http.HttpMethod is null or "" or "HTTP_METHOD_UNSPECIFIED" ? "POST" : http.HttpMethod.ToUpperInvariant();
        if (!HttpMethods.Contains(method))
        {
            throw CloudTasksApiException.InvalidArgument($"Invalid HttpRequest.http_method '{http.HttpMethod}'.");
        }

        byte[]? body = null;
        if (!string.IsNullOrEmpty(http.Body))
        {
            try
            {
                body = Convert.FromBase64String(http.Body);
            }
            catch (FormatException)
            {
                throw CloudTasksApiException.InvalidArgument("HttpRequest.body must be base64-encoded.");
            }

            if (method is not ("POST" or "PUT" or "PATCH"))
            {
                throw CloudTasksApiException.InvalidArgument("HttpRequest.body is allowed only for POST, PUT and PATCH.");
            }
        }

        if (http.OauthToken is { ValueKind: not System.Text.Json.JsonValueKind.Null })
        {
            throw CloudTasksApiException.InvalidArgument("The emulator signs OIDC tokens only: use httpRequest.oidcToken, not oauthToken.");
        }

        EmulatedOidcToken? oidcToken = null;
        if (http.OidcToken is not null)
        {
            if (string.IsNullOrWhiteSpace(http.OidcToken.ServiceAccountEmail))
            {
                throw CloudTasksApiException.InvalidArgument("HttpRequest.oidc_token.service_account_email is required.");
            }

            oidcToken = new EmulatedOidcToken(http.OidcToken.ServiceAccountEmail, http.OidcToken.Audience);
        }

        var headers = http.Headers is null
            ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>(http.Headers, StringComparer.OrdinalIgnoreCase);
        return new EmulatedHttpRequest(url.AbsoluteUri, method, headers, body, oidcToken);
    }

    private static bool IsFullView(string? view) => string.Equals(view, "FULL", StringComparison.OrdinalIgnoreCase);

    private static TaskResource ToResource(EmulatedTask task, bool full) => new()
    {
        Name = task.Name,
        ScheduleTime = GoogleWireFormat.Timestamp(task.ScheduleTime),
        CreateTime = GoogleWireFormat.Timestamp(task.CreateTime),
        DispatchDeadline = GoogleWireFormat.Duration(task.DispatchDeadline),
        DispatchCount = task.DispatchCount,
        ResponseCount = task.ResponseCount,
        FirstAttempt = ToResource(task.FirstAttempt),
        LastAttempt = ToResource(task.LastAttempt),
        View = full ? "FULL" : "BASIC",
        HttpRequest = new HttpRequestResource(
            task.HttpRequest.Url,
            task.HttpRequest.HttpMethod,
            task.HttpRequest.Headers,
            full && task.HttpRequest.Body is not null ? Convert.ToBase64String(task.HttpRequest.Body) : null,
            task.HttpRequest.OidcToken is { } oidc ? new OidcTokenResource(oidc.ServiceAccountEmail, oidc.Audience) : null,
            null),
    };

    private static AttemptResource? ToResource(EmulatedAttempt? attempt) =>
        attempt is null
            ? null
            : new AttemptResource(
                GoogleWireFormat.Timestamp(attempt.ScheduleTime),
                GoogleWireFormat.Timestamp(attempt.DispatchTime),
                attempt.ResponseTime is { } responseTime ? GoogleWireFormat.Timestamp(responseTime) : null,
                new StatusResource(RpcCodeOf(attempt), attempt.Error ?? $"HTTP {attempt.ResponseCode}"));

    // google.rpc.Code for what the handler answered, as Cloud Tasks reports it in Attempt.responseStatus.
    private static int RpcCodeOf(EmulatedAttempt attempt) => attempt.ResponseCode switch
    {
        null when attempt.Error == "DEADLINE_EXCEEDED" => 4,
        null => 14,
        >= 200 and < 300 => 0,
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        409 => 10,
        429 => 8,
        499 => 1,
        501 => 12,
        503 => 14,
        504 => 4,
        >= 500 => 13,
        _ => 2,
    };

    [GeneratedRegex("^[A-Za-z0-9_-]{1,500}$")]
    private static partial Regex TaskIdPattern();
}
