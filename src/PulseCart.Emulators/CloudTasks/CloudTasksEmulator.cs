using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Api;
using PulseCart.GoogleApis.CloudTasks.V2;
using CloudTask = PulseCart.GoogleApis.CloudTasks.V2.Task;
using HttpMethod = PulseCart.GoogleApis.CloudTasks.V2.HttpMethod;
using Task = System.Threading.Tasks.Task;

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

    // Cloud Tasks' limit on one task ("Maximum task size: 1 MB", quotas page), read as MiB.
    private const int MaxTaskBytes = 1 << 20;
    private static readonly TimeSpan MinDispatchDeadline = TimeSpan.FromSeconds(15);

    // How many bytes of task bodies one page of the FULL view carries; the rest follow on the next pages.
    private const int MaxFullPageBytes = 2 * 1024 * 1024;

    // Cloud Tasks: "The size of the headers must be less than 80KB."
    private const int MaxHeaderBytes = 80 * 1024;
    private static readonly TimeSpan MaxDispatchDeadline = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan DefaultDispatchDeadline = TimeSpan.FromMinutes(10);

    private readonly ICloudTaskStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<CloudTasksEmulator> _logger;
    private readonly Counter<long> _dispatchCounter;
    private readonly Lock _attemptsLock = new();
    private readonly Queue<CloudTaskAttempt> _attempts = new();
    private readonly ConcurrentDictionary<string, QueueRuntime> _queues = new(StringComparer.Ordinal);
    private readonly Channel<QueueRuntime> _addedQueues = Channel.CreateUnbounded<QueueRuntime>();

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
        foreach (var queue in Options.EffectiveQueues)
        {
            var runtime = new QueueRuntime(queue);
            _queues[runtime.Name] = runtime;
            _addedQueues.Writer.TryWrite(runtime);
        }

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

    internal IReadOnlyDictionary<string, QueueRuntime> Queues => _queues;

    /// <summary>Every queue once, the configured ones first and then each created over the API, for the dispatcher to run.</summary>
    internal ChannelReader<QueueRuntime> AddedQueues => _addedQueues.Reader;

    /// <summary>
    /// Completes once nothing more will happen until the clock moves or a task is created: every queue's dispatcher is
    /// waiting for a time still ahead and no dispatch is outstanding. Tests advance a fake clock, then await this.
    /// </summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken = default) => WaitUntilQuietAsync(allowInFlight: false, cancellationToken);

    /// <summary>Like <see cref="WhenIdleAsync"/>, but dispatches may still be waiting for their handlers.</summary>
    internal Task WhenParkedAsync(CancellationToken cancellationToken = default) => WaitUntilQuietAsync(allowInFlight: true, cancellationToken);

    internal int InFlightCount => Queues.Values.Sum(queue => queue.InFlight.Count);

    internal Queue CreateQueue(CreateQueueRequest request)
    {
        var resource = request.Queue ?? throw ApiException.InvalidArgument("Queue is required.");
        if (!ParentPattern().IsMatch(request.Parent))
        {
            throw ApiException.InvalidArgument($"Invalid parent '{request.Parent}': expected projects/PROJECT/locations/LOCATION.");
        }

        if (!resource.Name.StartsWith($"{request.Parent}/queues/", StringComparison.Ordinal))
        {
            throw ApiException.InvalidArgument($"Queue name '{resource.Name}' must be {request.Parent}/queues/QUEUE_ID.");
        }

        var runtime = new QueueRuntime(QueueResources.Settings(resource));
        if (!_queues.TryAdd(runtime.Name, runtime))
        {
            throw ApiException.AlreadyExists("Requested entity already exists");
        }

        _addedQueues.Writer.TryWrite(runtime);
        return QueueResources.Resource(runtime);
    }

    internal Queue GetQueue(string name) => QueueResources.Resource(FindQueue(name));

    internal ListQueuesResponse ListQueues(ListQueuesRequest request)
    {
        if (!ParentPattern().IsMatch(request.Parent))
        {
            throw ApiException.InvalidArgument($"Invalid parent '{request.Parent}': expected projects/PROJECT/locations/LOCATION.");
        }

        if (request.Filter.Length > 0)
        {
            throw ApiException.InvalidArgument("The twin does not filter queues: leave filter unset.");
        }

        var queues = _queues.Values
            .Where(queue => queue.Name.StartsWith($"{request.Parent}/queues/", StringComparison.Ordinal))
            .OrderBy(queue => queue.Name, StringComparer.Ordinal)
            .Select(QueueResources.Resource)
            .ToList();
        var (page, next) = Paging.Page(queues, request.PageSize, request.PageToken, 9800);
        return new ListQueuesResponse { Queues = { page }, NextPageToken = next };
    }

    /// <summary>
    /// Changes the fields <c>update_mask</c> names (all settable ones when it is empty); they apply to the next dispatch.
    /// Like Google's, it creates a queue that does not exist: with those fields, and Google's defaults for the rest.
    /// </summary>
    internal Queue UpdateQueue(UpdateQueueRequest request)
    {
        var update = request.Queue ?? throw ApiException.InvalidArgument("Queue is required.");
        var mask = request.UpdateMask ?? new FieldMask();
        if (mask.Paths.Count > 0 && !FieldMask.IsValid<Queue>(mask))
        {
            throw ApiException.InvalidArgument($"Invalid update_mask '{mask}'.");
        }

        if (mask.Paths.Any(path => path is "name" or "state" or "purge_time" || path.StartsWith("rate_limits.max_burst_size", StringComparison.Ordinal)))
        {
            throw ApiException.InvalidArgument($"update_mask '{mask}' names a field that cannot be updated: set rate_limits and retry_config.");
        }

        // A new queue starts from its name alone: QueueResources.Settings fills in Google's defaults for what stays unset.
        var existing = _queues.TryGetValue(update.Name, out var found) ? found : null;
        var merged = existing is null ? new Queue { Name = update.Name } : QueueResources.Resource(existing);
        if (mask.Paths.Count == 0)
        {
            merged.RateLimits = update.RateLimits ?? merged.RateLimits;
            merged.RetryConfig = update.RetryConfig ?? merged.RetryConfig;
            merged.AppEngineRoutingOverride = update.AppEngineRoutingOverride;
        }
        else
        {
            UpdateMasks.Apply(mask, update, merged);
        }

        var settings = QueueResources.Settings(merged);
        if (existing is not null)
        {
            existing.Apply(settings);
            return QueueResources.Resource(existing);
        }

        var created = new QueueRuntime(settings);
        if (!_queues.TryAdd(created.Name, created))
        {
            // Another call created it meanwhile: this one updates that queue, as if it had come second.
            return UpdateQueue(request);
        }

        _addedQueues.Writer.TryWrite(created);
        return QueueResources.Resource(created);
    }

    internal async Task DeleteQueueAsync(string name)
    {
        var runtime = FindQueue(name);
        if (_queues.TryRemove(name, out _))
        {
            await runtime.Deleted.CancelAsync().ConfigureAwait(false);
            var now = _timeProvider.GetUtcNow();
            await _store.PurgeAsync(name, now, now + Options.NameReservation).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes every task of the queue; their names stay reserved as if they had run.</summary>
    internal async Task<Queue> PurgeQueueAsync(string name)
    {
        var runtime = FindQueue(name);
        var now = _timeProvider.GetUtcNow();
        runtime.PurgeTime = now;
        await _store.PurgeAsync(name, now, now + Options.NameReservation).ConfigureAwait(false);
        runtime.Wake.Set();
        return QueueResources.Resource(runtime);
    }

    internal Queue PauseQueue(string name)
    {
        var runtime = FindQueue(name);
        runtime.Paused = true;
        runtime.Wake.Set();
        return QueueResources.Resource(runtime);
    }

    internal Queue ResumeQueue(string name)
    {
        var runtime = FindQueue(name);
        runtime.Paused = false;
        runtime.Wake.Set();
        return QueueResources.Resource(runtime);
    }

    internal async Task<CloudTask> CreateTaskAsync(CreateTaskRequest request)
    {
        var queue = FindQueue(request.Parent);
        var resource = request.Task ?? throw ApiException.InvalidArgument("Task is required.");
        if (resource.CalculateSize() is var size and > MaxTaskBytes)
        {
            throw ApiException.InvalidArgument($"Task size too large: {size} bytes; the maximum task size is {MaxTaskBytes} bytes.");
        }

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
            throw ApiException.AlreadyExists("Requested entity already exists");
        }

        queue.Wake.Set();
        return ToResource(task, request.ResponseView);
    }

    internal async Task<CloudTask> GetTaskAsync(GetTaskRequest request) =>
        ToResource(await FindTaskAsync(request.Name).ConfigureAwait(false), request.ResponseView);

    internal async Task<ListTasksResponse> ListTasksAsync(ListTasksRequest request)
    {
        var queue = FindQueue(request.Parent);
        if (request.PageSize > 1000)
        {
            throw ApiException.InvalidArgument("page_size must be between 0 and 1000.");
        }

        // With their bodies, a page holds at most MaxFullPageBytes of them (tasks may be 1 MiB each).
        var tasks = await _store.ListAsync(queue.Name).ConfigureAwait(false);
        var (page, next) = request.ResponseView == CloudTask.Types.View.Full
            ? Paging.Page(tasks, request.PageSize, request.PageToken, 1000, task => task.HttpRequest.Body?.Length ?? 0, MaxFullPageBytes)
            : Paging.Page(tasks, request.PageSize, request.PageToken, 1000);
        return new ListTasksResponse { Tasks = { page.Select(task => ToResource(task, request.ResponseView)) }, NextPageToken = next };
    }

    internal async Task DeleteTaskAsync(DeleteTaskRequest request)
    {
        FindQueue(TaskQueueOf(request.Name));
        var now = _timeProvider.GetUtcNow();
        if (!await _store.RemoveAsync(request.Name, now, now + Options.NameReservation).ConfigureAwait(false))
        {
            throw ApiException.NotFound("Requested entity was not found.");
        }
    }

    /// <summary>Dispatches the task now, even in a paused queue or past its rate limits; answers with the task as it was.</summary>
    internal async Task<CloudTask> RunTaskAsync(RunTaskRequest request)
    {
        var task = await FindTaskAsync(request.Name).ConfigureAwait(false);
        var queue = FindQueue(task.Queue);
        queue.RunNow.Enqueue(task.Name);
        queue.Wake.Set();
        return ToResource(task, request.ResponseView);
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
        _queues.TryGetValue(queueName, out var queue)
            ? queue
            : throw ApiException.NotFound($"Queue {queueName} does not exist.");

    private async Task<EmulatedTask> FindTaskAsync(string taskName)
    {
        FindQueue(TaskQueueOf(taskName));
        return await _store.GetAsync(taskName).ConfigureAwait(false) ?? throw ApiException.NotFound("Requested entity was not found.");
    }

    private static string TaskQueueOf(string taskName)
    {
        var tasks = taskName.LastIndexOf("/tasks/", StringComparison.Ordinal);
        return tasks < 0 ? throw ApiException.InvalidArgument($"Invalid task name '{taskName}'.") : taskName[..tasks];
    }

    private static string TaskNameFor(QueueRuntime queue, string requestedName)
    {
        if (string.IsNullOrEmpty(requestedName))
        {
            // Cloud Tasks generates long numeric ids; random ones avoid hot-spotting as Google advises for chosen ids.
            return $"{queue.Name}/tasks/{Random.Shared.NextInt64(1_000_000_000_000_000_000, long.MaxValue)}";
        }

        var prefix = $"{queue.Name}/tasks/";
        if (!requestedName.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw ApiException.InvalidArgument($"Task name {requestedName} must be of the form {prefix}TASK_ID.");
        }

        if (!TaskIdPattern().IsMatch(requestedName.AsSpan(prefix.Length)))
        {
            throw ApiException.InvalidArgument(
                "Task ID must contain only letters ([A-Za-z]), numbers ([0-9]), hyphens (-), or underscores (_), at most 500 characters.");
        }

        return requestedName;
    }

    private static DateTimeOffset ScheduleTimeOf(Timestamp? scheduleTime, DateTimeOffset now)
    {
        if (scheduleTime is null)
        {
            return now;
        }

        var time = scheduleTime.ToDateTimeOffset();
        if (time - now > MaxScheduleAhead)
        {
            throw ApiException.InvalidArgument("The task's schedule_time must be within 30 days of the current time.");
        }

        return time;
    }

    private static TimeSpan DispatchDeadlineOf(Duration? dispatchDeadline)
    {
        if (dispatchDeadline is null)
        {
            return DefaultDispatchDeadline;
        }

        var deadline = dispatchDeadline.ToTimeSpan();
        if (deadline < MinDispatchDeadline || deadline > MaxDispatchDeadline)
        {
            throw ApiException.InvalidArgument($"Invalid dispatch_deadline '{deadline.TotalSeconds}s': it must be between 15s and 1800s.");
        }

        return deadline;
    }

    private static EmulatedHttpRequest HttpRequestOf(CloudTask resource)
    {
        if (resource.MessageTypeCase == CloudTask.MessageTypeOneofCase.AppEngineHttpRequest)
        {
            throw ApiException.InvalidArgument("The twin runs HTTP tasks only: set task.httpRequest, not appEngineHttpRequest.");
        }

        var http = resource.HttpRequest ?? throw ApiException.InvalidArgument("Task.http_request is required.");
        if (!Uri.TryCreate(http.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw ApiException.InvalidArgument("HttpRequest.url is required and must be an absolute http or https URL.");
        }

        if (!System.Enum.IsDefined(http.HttpMethod))
        {
            throw ApiException.InvalidArgument($"Invalid value at 'task.http_request.http_method' ({(int)http.HttpMethod}).");
        }

        var method = http.HttpMethod == HttpMethod.Unspecified ? "POST" : http.HttpMethod.ToString().ToUpperInvariant();
        byte[]? body = http.Body.IsEmpty ? null : http.Body.ToByteArray();
        if (body is not null && method is not ("POST" or "PUT" or "PATCH"))
        {
            throw ApiException.InvalidArgument("HttpRequest.body is allowed only for POST, PUT and PATCH.");
        }

        if (http.AuthorizationHeaderCase == HttpRequest.AuthorizationHeaderOneofCase.OauthToken)
        {
            throw ApiException.InvalidArgument("The twin signs OIDC tokens only: use httpRequest.oidcToken, not oauthToken.");
        }

        EmulatedOidcToken? oidcToken = null;
        if (http.OidcToken is { } oidc)
        {
            if (string.IsNullOrWhiteSpace(oidc.ServiceAccountEmail))
            {
                throw ApiException.InvalidArgument("HttpRequest.oidc_token.service_account_email is required.");
            }

            oidcToken = new EmulatedOidcToken(oidc.ServiceAccountEmail, oidc.Audience.Length == 0 ? null : oidc.Audience);
        }

        CheckHeaders(http.Headers);
        var headers = new Dictionary<string, string>(http.Headers, StringComparer.OrdinalIgnoreCase);
        return new EmulatedHttpRequest(url.AbsoluteUri, method, headers, body, oidcToken);
    }

    /// <summary>
    /// Headers as HTTP allows them, refused as Cloud Tasks refuses them: a name must be a token, and a value may not hold
    /// a line break or other control character, which would otherwise start a header of its own in the dispatch.
    /// </summary>
    private static void CheckHeaders(IDictionary<string, string> headers)
    {
        foreach (var (name, value) in headers)
        {
            if (name.Length == 0 || !name.All(IsTokenCharacter))
            {
                throw ApiException.InvalidArgument($"HttpRequest.headers has an invalid header name '{ShownHeaderName(name)}'.");
            }

            // Outside ASCII, HttpClient would refuse the value at every dispatch.
            if (value.Any(character => (char.IsControl(character) && character != '\t') || !char.IsAscii(character)))
            {
                throw ApiException.InvalidArgument($"HttpRequest.headers['{ShownHeaderName(name)}'] holds a control character, a line break or a character outside ASCII.");
            }
        }

        if (headers.Sum(header => header.Key.Length + header.Value.Length) >= MaxHeaderBytes)
        {
            throw ApiException.InvalidArgument($"HttpRequest.headers must be smaller than {MaxHeaderBytes / 1024} KB in all.");
        }
    }

    // RFC 9110's token characters.
    private static bool IsTokenCharacter(char character) =>
        char.IsAsciiLetterOrDigit(character) || "!#$%&'*+-.^_`|~".Contains(character);

    private static string ShownHeaderName(string name) => name.Length <= 64 && !name.Any(char.IsControl) ? name : "(unprintable or long)";

    private static CloudTask ToResource(EmulatedTask task, CloudTask.Types.View view)
    {
        var full = view == CloudTask.Types.View.Full;
        var http = new HttpRequest
        {
            Url = task.HttpRequest.Url,
            HttpMethod = System.Enum.Parse<HttpMethod>(task.HttpRequest.HttpMethod, ignoreCase: true),
            Headers = { task.HttpRequest.Headers.ToDictionary() },
        };
        if (full && task.HttpRequest.Body is { } body)
        {
            http.Body = ByteString.CopyFrom(body);
        }

        if (task.HttpRequest.OidcToken is { } oidc)
        {
            http.OidcToken = new OidcToken { ServiceAccountEmail = oidc.ServiceAccountEmail, Audience = oidc.Audience ?? "" };
        }

        return new CloudTask
        {
            Name = task.Name,
            ScheduleTime = Microseconds(task.ScheduleTime),
            CreateTime = Timestamp.FromDateTimeOffset(Truncated(task.CreateTime, TimeSpan.TicksPerSecond)),
            DispatchDeadline = Duration.FromTimeSpan(task.DispatchDeadline),
            DispatchCount = task.DispatchCount,
            ResponseCount = task.ResponseCount,

            // Cloud Tasks keeps only the first attempt's dispatch time.
            FirstAttempt = task.FirstAttempt is { } first ? new Attempt { DispatchTime = Microseconds(first.DispatchTime) } : null,
            LastAttempt = ToResource(task.LastAttempt),
            View = full ? CloudTask.Types.View.Full : CloudTask.Types.View.Basic,
            HttpRequest = http,
        };
    }

    private static Attempt? ToResource(EmulatedAttempt? attempt) =>
        attempt is null
            ? null
            : new Attempt
            {
                ScheduleTime = Microseconds(attempt.ScheduleTime),
                DispatchTime = Microseconds(attempt.DispatchTime),
                ResponseTime = attempt.ResponseTime is { } responseTime ? Microseconds(responseTime) : null,
                ResponseStatus = new Google.Rpc.Status { Code = RpcCodeOf(attempt), Message = attempt.Error ?? $"HTTP {attempt.ResponseCode}" },
            };

    // Cloud Tasks shows a task's creation to the second and its other times to the microsecond.
    internal static DateTimeOffset Truncated(DateTimeOffset value, long ticks) => new(value.UtcTicks - value.UtcTicks % ticks, TimeSpan.Zero);

    private static Timestamp Microseconds(DateTimeOffset value) => Timestamp.FromDateTimeOffset(Truncated(value, TimeSpan.TicksPerMicrosecond));

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

    [GeneratedRegex("^projects/[A-Za-z0-9.:-]+/locations/[A-Za-z0-9-]+$")]
    private static partial Regex ParentPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,500}$")]
    private static partial Regex TaskIdPattern();
}
