using System.Net;
using PulseCart.CloudTasks.Tests.Support;
using PulseCart.Testing;
using StackExchange.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PulseCart.Grains.Reminders;

namespace PulseCart.CloudTasks.Tests;

/// <summary>The emulator on Redis: tasks and reserved names outlive the host.</summary>
public sealed class RedisStorageTests
{
    [Fact]
    public async Task TaskCreatedBeforeARestartIsDispatchedOnceByTheNextHost()
    {
        await using var redisServer = await RedisServer.StartAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.ConnectionString);
        await using var handler = await CallbackServer.StartAsync();
        var id = Scenario.NewId();
        string name;
        DateTimeOffset stoppedAt;

        await using (var first = await EmulatorHost.StartAsync(Scenario.NewClock(), redis: redis))
        await using (var client = Scenario.Client(first.CloudTasksBaseUrl, handler.BaseAddress))
        {
            name = await client.GetRequiredService<ITaskQueue>().ScheduleAsync(Scenario.Reminder(id, first.Clock.GetUtcNow().AddMinutes(5)));
            await first.IdleAsync();
            stoppedAt = first.Clock.GetUtcNow();
        }

        await using (var second = await EmulatorHost.StartAsync(new FakeTimeProvider(stoppedAt), redis: redis))
        {
            handler.Now = second.Clock.GetUtcNow;
            await second.IdleAsync();
            Assert.Empty(handler.Received);

            await second.AdvanceAsync(TimeSpan.FromMinutes(5));
            await second.AdvanceAsync(TimeSpan.FromMinutes(10));

            var callback = Assert.Single(handler.Received);
            Assert.Equal(id, callback.Header("X-CloudTasks-TaskName"));
            Assert.Equal(stoppedAt.AddMinutes(5), callback.ReceivedAt);
            stoppedAt = second.Clock.GetUtcNow();
        }

        await using var third = await EmulatorHost.StartAsync(new FakeTimeProvider(stoppedAt), redis: redis);
        using var recreate = await third.Http.PostAsync(
            $"/emulators/cloudtasks/v2/{Scenario.QueueName}/tasks",
            new StringContent(Scenario.TaskJson(handler.BaseAddress.AbsoluteUri, name: name), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Conflict, recreate.StatusCode);
        await third.IdleAsync();
        Assert.Single(handler.Received);
    }
}
