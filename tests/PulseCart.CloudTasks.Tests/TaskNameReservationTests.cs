using PulseCart.CloudTasks.Tests.Support;
using PulseCart.Emulators.CloudTasks;

namespace PulseCart.CloudTasks.Tests;

/// <summary>The in-memory store keeps a name taken for an hour after its task ran or was deleted, however often it is reused.</summary>
public sealed class TaskNameReservationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task ANameReservedAgainStaysTakenWhenItsFirstReservationEnds()
    {
        var store = new InMemoryCloudTaskStore();
        Assert.True(await store.TryAddAsync(Task("a"), T0));
        Assert.True(await store.RemoveAsync(Name("a"), T0, T0 + Hour));

        // Reused once its hour is over, then run again: reserved until two hours after that.
        var later = T0 + TimeSpan.FromMinutes(61);
        Assert.True(await store.TryAddAsync(Task("a"), later));
        Assert.True(await store.RemoveAsync(Name("a"), later, later + Hour));

        // Another removal drops the reservations that are over: the first of "a", not its second.
        Assert.True(await store.TryAddAsync(Task("b"), later));
        Assert.True(await store.RemoveAsync(Name("b"), later + TimeSpan.FromMinutes(5), later + TimeSpan.FromMinutes(5) + Hour));

        Assert.False(await store.TryAddAsync(Task("a"), later + TimeSpan.FromMinutes(10)));
        Assert.True(await store.TryAddAsync(Task("a"), later + Hour));
    }

    private static string Name(string id) => $"{Scenario.QueueName}/tasks/{id}";

    private static EmulatedTask Task(string id) => new()
    {
        Name = Name(id),
        Queue = Scenario.QueueName,
        CreateTime = T0,
        ScheduleTime = T0,
        DispatchDeadline = TimeSpan.FromMinutes(10),
        HttpRequest = new EmulatedHttpRequest("http://127.0.0.1:9/", "POST", new Dictionary<string, string>(), null, null),
    };
}
