using PulseCart.CloudTasks.Tests.Support;

namespace PulseCart.CloudTasks.Tests;

/// <summary>The queue's <c>rateLimits</c>: how fast and how many dispatches at once.</summary>
public sealed class EmulatorLimitTests
{
    [Fact]
    public async Task DueTasksAreDispatchedNoFasterThanMaxDispatchesPerSecond()
    {
        await using var scenario = await Scenario.StartAsync(new Dictionary<string, string?>
        {
            ["PulseCart:Emulators:CloudTasks:Queues:0:Name"] = Scenario.QueueName,
            ["PulseCart:Emulators:CloudTasks:Queues:0:RateLimits:MaxDispatchesPerSecond"] = "50",
        });
        var ids = Enumerable.Range(0, 1000).Select(_ => Scenario.NewId()).ToList();
        await Parallel.ForEachAsync(
            ids,
            new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (id, _) => await scenario.ScheduleAsync(id, TimeSpan.Zero));

        for (var second = 0; second < 40 && scenario.Handler.Received.Count < ids.Count; second++)
        {
            await scenario.IdleAsync();
            await scenario.AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        var received = scenario.Handler.Received;
        Assert.Equal(ids.Order(), received.Select(request => request.Header("X-CloudTasks-TaskName")!).Order());
        var times = received.Select(request => request.ReceivedAt).Order().ToList();
        var busiestSecond = times.Max(end => times.Count(time => time > end - TimeSpan.FromSeconds(1) && time <= end));
        Assert.Equal(50, busiestSecond);
        Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds(19), $"1,000 dispatches took {(times[^1] - times[0]).TotalSeconds} s");
    }

    [Fact]
    public async Task NoMoreThanMaxConcurrentDispatchesWaitOnTheHandlerAtOnce()
    {
        await using var scenario = await Scenario.StartAsync(new Dictionary<string, string?>
        {
            ["PulseCart:Emulators:CloudTasks:Queues:0:Name"] = Scenario.QueueName,
            ["PulseCart:Emulators:CloudTasks:Queues:0:RateLimits:MaxConcurrentDispatches"] = "3",
        });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        scenario.Handler.Respond = _ => new Reply(200, HoldUntil: release.Task);
        for (var task = 0; task < 10; task++)
        {
            await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);
        }

        // Once the dispatcher has nothing left it may start, everything it started must have reached the handler.
        await scenario.Emulator.Emulator.WhenParkedAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var inFlight = scenario.Emulator.Emulator.InFlightCount;
        while (scenario.Handler.InFlight < inFlight)
        {
            await Task.Delay(5).WaitAsync(TimeSpan.FromSeconds(15));
        }

        Assert.Equal(3, scenario.Handler.InFlight);
        release.SetResult();
        await scenario.IdleAsync();
        Assert.Equal(10, scenario.Handler.Received.Count);
        Assert.Equal(3, scenario.Handler.MaxInFlight);
    }
}
