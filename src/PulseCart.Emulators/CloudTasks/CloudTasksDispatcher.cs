using PulseCart.Emulators.Dispatching;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PulseCart.Emulators.Oidc;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>
/// Runs each emulated queue: sends due tasks to their handlers as Cloud Tasks would (headers, OIDC token, deadline),
/// retries failures on the queue's backoff, and keeps to its rate and concurrency limits. All waiting is on the
/// injected <see cref="TimeProvider"/>, so a test's fake clock drives it.
/// </summary>
internal sealed class CloudTasksDispatcher(
    CloudTasksEmulator emulator,
    ICloudTaskStore store,
    IHttpClientFactory httpClientFactory,
    LocalOidcIssuer oidcIssuer,
    TimeProvider timeProvider,
    ILogger<CloudTasksDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan StoreFailurePause = TimeSpan.FromSeconds(1);

    // Headers Cloud Tasks sets itself; a task cannot supply its own.
    private static readonly string[] ReservedHeaderPrefixes = ["X-CloudTasks-", "X-Google-", "X-AppEngine-"];
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "User-Agent", "Content-Length", "Authorization", "Transfer-Encoding", "Connection",
    };

    private readonly ConcurrentDictionary<Task, byte> _dispatches = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new List<Task>();
        try
        {
            await foreach (var queue in emulator.AddedQueues.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                loops.Add(RunQueueAsync(queue, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Dispatches cut short by shutdown leave their task as it was, to be sent again after a restart.
            await Task.WhenAll(loops).ConfigureAwait(false);
            await Task.WhenAll(_dispatches.Keys).ConfigureAwait(false);
        }
    }

    private async Task RunQueueAsync(QueueRuntime queue, CancellationToken stoppingToken)
    {
        // Off the reading loop, so one queue's start never holds up the next queue's.
        await Task.Yield();
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, queue.Deleted.Token);
        var token = running.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var wakeAt = await StartDueDispatchesAsync(queue, token).ConfigureAwait(false);
                await Parking.ParkAsync(queue, timeProvider, wakeAt, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Cloud Tasks emulator queue {Queue} could not read its tasks; trying again shortly", queue.Name);
                try
                {
                    // Real time on purpose: a broken store should be retried even while a test's fake clock stands still.
                    await Task.Delay(StoreFailurePause, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Starts every due task the limits allow; returns when to look again (null: when something signals).</summary>
    private async Task<DateTimeOffset?> StartDueDispatchesAsync(QueueRuntime queue, CancellationToken stoppingToken)
    {
        queue.Wake.Reset();
        while (queue.RunNow.TryDequeue(out var forced))
        {
            if (!queue.InFlight.ContainsKey(forced) && await store.GetAsync(forced).ConfigureAwait(false) is { } task)
            {
                StartDispatch(queue, task, stoppingToken);
            }
        }

        if (queue.Paused)
        {
            return null;
        }

        var now = timeProvider.GetUtcNow();
        var due = await store.DueAsync(queue.Name, now, queue.FetchLimit).ConfigureAwait(false);
        foreach (var name in due)
        {
            if (queue.InFlight.ContainsKey(name))
            {
                continue;
            }

            if (queue.InFlight.Count >= queue.MaxConcurrentDispatches)
            {
                return null;
            }

            // Read again after the list: a dispatch that ended meanwhile has left the in-flight set with its retry
            // stored for later, and Cloud Tasks never sends a task before its schedule time.
            var task = await store.GetAsync(name).ConfigureAwait(false);
            if (task is null || task.ScheduleTime > now)
            {
                continue;
            }

            if (queue.Limiter.TryAcquire(timeProvider.GetUtcNow()) is { } nextSlot)
            {
                return nextSlot;
            }

            StartDispatch(queue, task, stoppingToken);
        }

        return due.Count == queue.FetchLimit
            ? timeProvider.GetUtcNow()
            : await store.NextDueAfterAsync(queue.Name, now).ConfigureAwait(false);
    }

    private void StartDispatch(QueueRuntime queue, EmulatedTask task, CancellationToken stoppingToken)
    {
        queue.InFlight[task.Name] = 0;
        var dispatch = DispatchAsync(queue, task, stoppingToken);
        _dispatches[dispatch] = 0;
        _ = dispatch.ContinueWith(finished => _dispatches.TryRemove(finished, out _), TaskScheduler.Default);
    }

    private async Task DispatchAsync(QueueRuntime queue, EmulatedTask task, CancellationToken stoppingToken)
    {
        // Off the queue loop's thread, so a slow handler never holds up the next dispatch.
        await Task.Yield();
        try
        {
            var dispatchTime = timeProvider.GetUtcNow();
            int? status = null;
            string? error = null;
            string? retryReason = null;
            TimeSpan? retryAfter = null;
            try
            {
                using var request = BuildRequest(queue, task);
                using var deadline = new CancellationTokenSource(task.DispatchDeadline, timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stoppingToken);
                var client = httpClientFactory.CreateClient(CloudTasksEmulator.HttpClientName);
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                status = (int)response.StatusCode;
                retryReason = "HTTP_ERROR";
                retryAfter = RetryAfter(response.Headers.RetryAfter);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                error = retryReason = "DEADLINE_EXCEEDED";
            }
            catch (HttpRequestException exception)
            {
                error = $"UNAVAILABLE: {exception.Message}";
                retryReason = "UNAVAILABLE";
            }

            await FinishAsync(queue, task, dispatchTime, status, error, retryReason, retryAfter).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Cloud Tasks emulator could not record the attempt on task {TaskName}; it will be sent again", task.Name);
        }
        finally
        {
            // Signal before leaving the in-flight set, so nobody sees the queue idle while its loop still has work.
            queue.Wake.Set();
            queue.InFlight.TryRemove(task.Name, out _);
        }
    }

    private async Task FinishAsync(
        QueueRuntime queue,
        EmulatedTask task,
        DateTimeOffset dispatchTime,
        int? status,
        string? error,
        string? retryReason,
        TimeSpan? retryAfter)
    {
        var completed = timeProvider.GetUtcNow();
        var attemptNumber = task.DispatchCount + 1;
        var reservedUntil = completed + emulator.Options.NameReservation;
        if (status is >= 200 and < 300)
        {
            await store.RemoveAsync(task.Name, completed, reservedUntil).ConfigureAwait(false);
            logger.LogDebug("Cloud Tasks emulator task {TaskName} succeeded on attempt {Attempt}", task.Name, attemptNumber);
            emulator.Record(queue, new CloudTaskAttempt(task.Name, attemptNumber, status, null, dispatchTime, completed, CloudTaskAttemptOutcome.Succeeded, null));
            return;
        }

        var attempt = new EmulatedAttempt(task.ScheduleTime, dispatchTime, status is null ? null : completed, status, error);
        var firstAttempt = task.FirstAttempt ?? attempt;
        if (RetryBackoff.IsExhausted(queue.Retry, attemptNumber, completed - firstAttempt.DispatchTime))
        {
            await store.RemoveAsync(task.Name, completed, reservedUntil).ConfigureAwait(false);
            logger.LogWarning(
                "Cloud Tasks emulator dropped task {TaskName} after attempt {Attempt} ({Status}): the queue's retry limits are used up",
                task.Name, attemptNumber, status?.ToString(CultureInfo.InvariantCulture) ?? error);
            emulator.Record(queue, new CloudTaskAttempt(task.Name, attemptNumber, status, error, dispatchTime, completed, CloudTaskAttemptOutcome.Failed, null));
            return;
        }

        var interval = RetryBackoff.Interval(queue.Retry, attemptNumber - 1);
        if (status is 429 or 503 && retryAfter > interval)
        {
            interval = retryAfter.Value;
        }

        var retry = task with
        {
            ScheduleTime = completed + interval,
            DispatchCount = attemptNumber,
            ResponseCount = task.ResponseCount + (status is null ? 0 : 1),
            ExecutionCount = task.ExecutionCount + (status is < 500 ? 1 : 0),
            FirstAttempt = firstAttempt,
            LastAttempt = attempt,
            RetryReason = retryReason,
        };
        await store.UpdateAsync(retry).ConfigureAwait(false);
        logger.LogDebug(
            "Cloud Tasks emulator task {TaskName} failed attempt {Attempt} ({Status}); next attempt at {NextAttempt}",
            task.Name, attemptNumber, status?.ToString(CultureInfo.InvariantCulture) ?? error, retry.ScheduleTime);
        emulator.Record(queue, new CloudTaskAttempt(task.Name, attemptNumber, status, error, dispatchTime, completed, CloudTaskAttemptOutcome.WillRetry, retry.ScheduleTime));
    }

    private HttpRequestMessage BuildRequest(QueueRuntime queue, EmulatedTask task)
    {
        var http = task.HttpRequest;
        var request = new HttpRequestMessage(new HttpMethod(http.HttpMethod), http.Url);
        if (http.Body is not null)
        {
            request.Content = new ByteArrayContent(http.Body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        foreach (var (header, value) in http.Headers)
        {
            if (ReservedHeaders.Contains(header) || ReservedHeaderPrefixes.Any(prefix => header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            if (header.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                if (request.Content is not null)
                {
                    request.Content.Headers.Remove(header);
                    request.Content.Headers.TryAddWithoutValidation(header, value);
                }

                continue;
            }

            request.Headers.TryAddWithoutValidation(header, value);
        }

        request.Headers.TryAddWithoutValidation("User-Agent", "Google-Cloud-Tasks");
        request.Headers.Add("X-CloudTasks-QueueName", queue.Id);
        request.Headers.Add("X-CloudTasks-TaskName", task.Id);
        request.Headers.Add("X-CloudTasks-TaskRetryCount", task.DispatchCount.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-CloudTasks-TaskExecutionCount", task.ExecutionCount.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-CloudTasks-TaskETA", EpochSeconds(CloudTasksEmulator.Truncated(task.ScheduleTime, TimeSpan.TicksPerMicrosecond)));
        if (task.DispatchCount > 0)
        {
            if (task.LastAttempt?.ResponseCode is { } previous)
            {
                request.Headers.Add("X-CloudTasks-TaskPreviousResponse", previous.ToString(CultureInfo.InvariantCulture));
            }

            if (task.RetryReason is not null)
            {
                request.Headers.Add("X-CloudTasks-TaskRetryReason", task.RetryReason);
            }
        }

        if (http.OidcToken is { } oidc)
        {
            var token = oidcIssuer.CreateToken(string.IsNullOrEmpty(oidc.Audience) ? http.Url : oidc.Audience, oidc.ServiceAccountEmail);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>Seconds since the Unix epoch with a fraction, as in <c>X-CloudTasks-TaskETA</c>.</summary>
    private static string EpochSeconds(DateTimeOffset value) =>
        decimal.Divide(value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, TimeSpan.TicksPerSecond)
            .ToString("0.0######", CultureInfo.InvariantCulture);

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - timeProvider.GetUtcNow(),
            _ => null,
        };
}
