using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.CloudTasks.Tests.Support;
using PulseCart.Emulators.CloudTasks;

namespace PulseCart.CloudTasks.Tests;

/// <summary>What the emulator does when a handler fails: backoff, Retry-After, deadlines and giving up.</summary>
public sealed class EmulatorRetryTests
{
    [Fact]
    public async Task FailedDispatchesAreRetriedOnTheQueueBackoffWithRetryHeaders()
    {
        await using var scenario = await Scenario.StartAsync(Queue(minBackoff: "00:00:10", maxBackoff: "00:05:00", maxDoublings: 3));
        int[] statuses = [500, 400, 500, 400, 500, 400, 500, 200];
        scenario.Handler.Respond = number => new Reply(statuses[number]);
        var name = await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);

        List<ReceivedRequest> received = [await scenario.Handler.NextAsync()];
        for (var retry = 1; retry < statuses.Length; retry++)
        {
            await scenario.IdleAsync();
            var task = await scenario.GetTaskJsonAsync(name);
            Assert.Equal(retry, task.GetProperty("dispatchCount").GetInt32());
            var next = DateTimeOffset.Parse(task.GetProperty("scheduleTime").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

            await scenario.AdvanceAsync(next - scenario.Clock.GetUtcNow() - TimeSpan.FromMilliseconds(1));
            Assert.Equal(retry, scenario.Handler.Received.Count);

            scenario.Clock.Advance(TimeSpan.FromMilliseconds(1));
            received.Add(await scenario.Handler.NextAsync());
        }

        var intervals = received.Zip(received.Skip(1), (earlier, later) => (later.ReceivedAt - earlier.ReceivedAt).TotalSeconds);
        Assert.Equal([10, 20, 40, 80, 160, 240, 300], intervals);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7"], received.Select(request => request.Header("X-CloudTasks-TaskRetryCount")));
        Assert.Equal([null, "500", "400", "500", "400", "500", "400", "500"], received.Select(request => request.Header("X-CloudTasks-TaskPreviousResponse")));
        Assert.Equal(["0", "0", "1", "1", "2", "2", "3", "3"], received.Select(request => request.Header("X-CloudTasks-TaskExecutionCount")));
        Assert.Null(received[0].Header("X-CloudTasks-TaskRetryReason"));
        Assert.All(received.Skip(1), request => Assert.Equal("HTTP_ERROR", request.Header("X-CloudTasks-TaskRetryReason")));

        await scenario.IdleAsync();
        using var gone = await scenario.GetTaskAsync(name);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(CloudTaskAttemptOutcome.Succeeded, scenario.Emulator.Emulator.Attempts[^1].Outcome);
    }

    [Fact]
    public async Task TaskIsDroppedAndRecordedFailedOnceMaxAttemptsAreUsed()
    {
        await using var scenario = await Scenario.StartAsync(Queue(minBackoff: "00:00:01", maxBackoff: "00:00:10", maxDoublings: 16, maxAttempts: 3));
        using var dispatches = new DispatchCounts(scenario.Emulator.Services.GetRequiredService<IMeterFactory>());
        scenario.Handler.Respond = _ => new Reply(500);
        var name = await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);

        await scenario.Handler.NextAsync();
        await scenario.IdleAsync();
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(1));
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(2));
        await scenario.AdvanceAsync(TimeSpan.FromHours(2));

        Assert.Equal(3, scenario.Handler.Received.Count);
        using var gone = await scenario.GetTaskAsync(name);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(
            [CloudTaskAttemptOutcome.WillRetry, CloudTaskAttemptOutcome.WillRetry, CloudTaskAttemptOutcome.Failed],
            scenario.Emulator.Emulator.Attempts.Select(attempt => attempt.Outcome));
        Assert.Equal(3, scenario.Emulator.Emulator.Attempts[^1].Attempt);
        Assert.Equal((0, 2, 1), (dispatches.Get("success"), dispatches.Get("retry"), dispatches.Get("failed")));
    }

    [Fact]
    public async Task WithUnlimitedAttemptsTaskIsDroppedOnceMaxRetryDurationHasPassed()
    {
        var settings = Queue(minBackoff: "00:00:02", maxBackoff: "00:01:00", maxDoublings: 16, maxAttempts: -1);
        settings["PulseCart:Emulators:CloudTasks:Queues:0:RetryConfig:MaxRetryDuration"] = "00:00:05";
        await using var scenario = await Scenario.StartAsync(settings);
        scenario.Handler.Respond = _ => new Reply(500);
        await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);
        await scenario.Handler.NextAsync();
        await scenario.IdleAsync();

        await scenario.AdvanceAsync(TimeSpan.FromSeconds(2));
        await scenario.AdvanceAsync(TimeSpan.FromSeconds(4));
        await scenario.AdvanceAsync(TimeSpan.FromHours(1));

        // Attempts at 0 s, 2 s and 6 s: the third is the first one past five seconds, so it is the last.
        Assert.Equal(3, scenario.Handler.Received.Count);
        Assert.Equal(CloudTaskAttemptOutcome.Failed, scenario.Emulator.Emulator.Attempts[^1].Outcome);
    }

    [Fact]
    public async Task RetryAfterOnA503DelaysTheNextAttemptAtLeastThatLong()
    {
        await using var scenario = await Scenario.StartAsync(Queue(minBackoff: "00:00:10", maxBackoff: "00:05:00", maxDoublings: 3));
        scenario.Handler.Respond = number => number == 0 ? new Reply(503, RetryAfter: TimeSpan.FromSeconds(120)) : new Reply(200);
        await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);
        var first = await scenario.Handler.NextAsync();
        await scenario.IdleAsync();

        await scenario.AdvanceAsync(TimeSpan.FromSeconds(120) - TimeSpan.FromMilliseconds(1));
        Assert.Single(scenario.Handler.Received);

        scenario.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var second = await scenario.Handler.NextAsync();
        Assert.Equal(TimeSpan.FromSeconds(120), second.ReceivedAt - first.ReceivedAt);
        Assert.Equal("503", second.Header("X-CloudTasks-TaskPreviousResponse"));
    }

    [Fact]
    public async Task ATasksTimesAreShownAtCloudTasksPrecisionAndItsFirstAttemptByItsDispatchTimeAlone()
    {
        await using var scenario = await Scenario.StartAsync(Queue(minBackoff: "00:00:10", maxBackoff: "00:05:00", maxDoublings: 3));
        scenario.Handler.Respond = number => new Reply(number == 0 ? 500 : 200);

        // A clock and a schedule time with more digits than Cloud Tasks keeps.
        scenario.Clock.Advance(TimeSpan.FromTicks(12_345_678));
        var due = scenario.Clock.GetUtcNow().AddSeconds(1);
        var scheduleTime = due.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffff", System.Globalization.CultureInfo.InvariantCulture) + "89Z";
        var name = $"{Scenario.QueueName}/tasks/{Scenario.NewId()}";
        using (var created = await scenario.CreateRawAsync(Scenario.TaskJson(scenario.CallbackUrl.AbsoluteUri, name, scheduleTime)))
        {
            var task = await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
            Assert.Matches(@":\d\dZ$", task.GetProperty("createTime").GetString()!);
            Assert.Matches(@"\.\d{6}Z$", task.GetProperty("scheduleTime").GetString()!);
        }

        await scenario.AdvanceAsync(TimeSpan.FromSeconds(1));
        var first = await scenario.Handler.NextAsync();
        Assert.Matches(@"^\d+\.\d{1,6}$", first.Header("X-CloudTasks-TaskETA"));
        await scenario.IdleAsync();

        var full = await scenario.GetTaskJsonAsync(name);
        Assert.Equal(["dispatchTime"], full.GetProperty("firstAttempt").EnumerateObject().Select(field => field.Name));
        Assert.Matches(@"\.\d{6}Z$", full.GetProperty("firstAttempt").GetProperty("dispatchTime").GetString()!);
        Assert.True(full.GetProperty("lastAttempt").TryGetProperty("responseStatus", out _));
    }

    [Fact]
    public async Task HandlerThatMissesTheDispatchDeadlineCountsAsAFailedAttemptAndIsRetried()
    {
        await using var scenario = await Scenario.StartAsync(
            Queue(minBackoff: "00:00:10", maxBackoff: "00:05:00", maxDoublings: 3),
            new Dictionary<string, string?> { ["PulseCart:CloudTasks:DispatchDeadline"] = "00:00:15" });
        scenario.Handler.Respond = number => number == 0 ? new Reply(200, Hang: true) : new Reply(200);
        var name = await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);
        var first = await scenario.Handler.NextAsync();

        await scenario.AdvanceAsync(TimeSpan.FromSeconds(15));

        var attempt = Assert.Single(scenario.Emulator.Emulator.Attempts);
        Assert.Equal((null, "DEADLINE_EXCEEDED", CloudTaskAttemptOutcome.WillRetry), (attempt.StatusCode, attempt.Error, attempt.Outcome));
        var task = await scenario.GetTaskJsonAsync(name);
        Assert.Equal(1, task.GetProperty("dispatchCount").GetInt32());
        Assert.False(task.TryGetProperty("responseCount", out _), "proto3 JSON leaves a zero count out, as Cloud Tasks does");

        await scenario.AdvanceAsync(TimeSpan.FromSeconds(10));
        var second = await scenario.Handler.NextAsync();
        Assert.Equal(TimeSpan.FromSeconds(25), second.ReceivedAt - first.ReceivedAt);
        Assert.Equal("1", second.Header("X-CloudTasks-TaskRetryCount"));
        Assert.Equal("DEADLINE_EXCEEDED", second.Header("X-CloudTasks-TaskRetryReason"));
        Assert.Null(second.Header("X-CloudTasks-TaskPreviousResponse"));
    }

    [Fact]
    public async Task ARetryWaitsForItsBackoffEvenWhenTheDispatcherListedTheTaskWhileItsAttemptRan()
    {
        // A store that hands back one list of due tasks late: after the attempt it listed as due has failed, stored its
        // retry for later and left the in-flight set. The dispatcher must not send that retry now.
        var store = new LateDueListStore();
        await using var scenario = await Scenario.StartAsync(
            Queue(minBackoff: "00:00:10", maxBackoff: "00:05:00", maxDoublings: 3),
            emulatorServices: services => services.AddSingleton<ICloudTaskStore>(store));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        scenario.Handler.Respond = number => number == 0 ? new Reply(500, HoldUntil: release.Task) : new Reply(200);
        var failing = await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);
        await scenario.Handler.NextAsync();

        var queue = scenario.Emulator.Emulator.Queues[Scenario.QueueName];
        store.BeforeNextDueListReturns = async () =>
        {
            release.SetResult();
            while (queue.InFlight.ContainsKey(failing))
            {
                await Task.Delay(1);
            }
        };

        // A second task wakes the dispatcher while the first attempt is held: it lists both as due.
        await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);
        await scenario.IdleAsync();
        Assert.Null(store.BeforeNextDueListReturns);
        Assert.Equal(2, scenario.Handler.Received.Count);
        Assert.Equal(1, (await scenario.GetTaskJsonAsync(failing)).GetProperty("dispatchCount").GetInt32());

        await scenario.AdvanceAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, scenario.Handler.Received.Count);
        Assert.Equal("1", scenario.Handler.Received[^1].Header("X-CloudTasks-TaskRetryCount"));
    }

    private static Dictionary<string, string?> Queue(string minBackoff, string maxBackoff, int maxDoublings, int maxAttempts = 100) => new()
    {
        ["PulseCart:Emulators:CloudTasks:Queues:0:Name"] = Scenario.QueueName,
        ["PulseCart:Emulators:CloudTasks:Queues:0:RetryConfig:MinBackoff"] = minBackoff,
        ["PulseCart:Emulators:CloudTasks:Queues:0:RetryConfig:MaxBackoff"] = maxBackoff,
        ["PulseCart:Emulators:CloudTasks:Queues:0:RetryConfig:MaxDoublings"] = maxDoublings.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PulseCart:Emulators:CloudTasks:Queues:0:RetryConfig:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Sums <c>pulsecart.tasks.dispatch</c> by outcome for one host's meter factory only.</summary>
    private sealed class DispatchCounts : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _counts = [];

        public DispatchCounts(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Meter.Name == CloudTasksEmulator.MeterName && instrument.Name == CloudTasksEmulator.DispatchCounterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "outcome")
                    {
                        lock (_counts)
                        {
                            _counts[(string)tag.Value!] = _counts.GetValueOrDefault((string)tag.Value!) + value;
                        }
                    }
                }
            });
            _listener.Start();
        }

        public long Get(string outcome)
        {
            lock (_counts)
            {
                return _counts.GetValueOrDefault(outcome);
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>The in-memory store, except that it can run a step before handing back its next list of due tasks.</summary>
    private sealed class LateDueListStore : ICloudTaskStore
    {
        private readonly InMemoryCloudTaskStore _inner = new();

        public Func<Task>? BeforeNextDueListReturns { get; set; }

        public async ValueTask<IReadOnlyList<string>> DueAsync(string queue, DateTimeOffset now, int limit)
        {
            var due = await _inner.DueAsync(queue, now, limit);
            if (due.Count > 0 && BeforeNextDueListReturns is { } step)
            {
                BeforeNextDueListReturns = null;
                await step();
            }

            return due;
        }

        public ValueTask<bool> TryAddAsync(EmulatedTask task, DateTimeOffset now) => _inner.TryAddAsync(task, now);

        public ValueTask<EmulatedTask?> GetAsync(string name) => _inner.GetAsync(name);

        public ValueTask<IReadOnlyList<EmulatedTask>> ListAsync(string queue) => _inner.ListAsync(queue);

        public ValueTask<bool> RemoveAsync(string name, DateTimeOffset now, DateTimeOffset reservedUntil) => _inner.RemoveAsync(name, now, reservedUntil);

        public ValueTask PurgeAsync(string queue, DateTimeOffset now, DateTimeOffset reservedUntil) => _inner.PurgeAsync(queue, now, reservedUntil);

        public ValueTask<bool> UpdateAsync(EmulatedTask task) => _inner.UpdateAsync(task);

        public ValueTask<DateTimeOffset?> NextDueAfterAsync(string queue, DateTimeOffset now) => _inner.NextDueAfterAsync(queue, now);
    }
}
