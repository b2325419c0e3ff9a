using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;
using PulseCart.Grains.Reminders;

namespace PulseCart.Grains.Tests;

/// <summary>One in-process silo for the collection, with a clock, a message sink and a task queue the tests control.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    public RecordingMessageSender Messages { get; } = new();

    public RecordingTaskQueue Tasks { get; } = new();

    public FailableStateStore States { get; } = new(new MemoryStateStore());

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddPulseCartGrainStorage(_ => States);
            silo.Services.AddSingleton<TimeProvider>(Time);
            silo.Services.AddSingleton<IMessageSender>(Messages);
            silo.Services.AddSingleton<ITaskQueue>(Tasks);

            // These tests move the shared clock by days, which would make later reminders overdue; the overdue wait is
            // tested through a pause and resume (PauseTests).
            silo.Services.Configure<RemindersOptions>(options => options.OverdueWait = TimeSpan.Zero);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>A sink that keeps what it was sent and can be told to fail, like a messaging service that is down.</summary>
public sealed class RecordingMessageSender : IMessageSender
{
    private readonly ConcurrentQueue<OutboundMessage> _sent = new();

    public string Sink => "recording";

    public ConcurrentDictionary<string, bool> FailingUsers { get; } = new();

    public IReadOnlyList<OutboundMessage> SentTo(string userId) => _sent.Where(message => message.UserId == userId).ToList();

    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
    {
        // Yield so that concurrent deliveries would interleave here if the grain let them.
        await Task.Yield();
        if (FailingUsers.ContainsKey(message.UserId))
        {
            throw new MessageSendException("sink is down");
        }

        _sent.Enqueue(message);
    }
}

/// <summary>A task queue that keeps scheduled and deleted tasks, and can be told to refuse work for a cart.</summary>
public sealed class RecordingTaskQueue : ITaskQueue
{
    private readonly ConcurrentQueue<ReminderTask> _scheduled = new();
    private readonly ConcurrentQueue<string> _deleted = new();

    public ConcurrentDictionary<string, bool> FailingCarts { get; } = new();

    public IReadOnlyList<ReminderTask> ScheduledFor(string cartId) => _scheduled.Where(task => task.CartId == cartId).ToList();

    public bool WasDeleted(string taskName) => _deleted.Contains(taskName);

    public Task<string> ScheduleAsync(ReminderTask task, CancellationToken cancellationToken = default)
    {
        if (FailingCarts.ContainsKey(task.CartId))
        {
            throw new HttpRequestException("task queue unavailable");
        }

        _scheduled.Enqueue(task);
        return Task.FromResult($"queues/test/tasks/{task.ReminderId}");
    }

    public Task DeleteAsync(string taskName, CancellationToken cancellationToken = default)
    {
        _deleted.Enqueue(taskName);
        return Task.CompletedTask;
    }
}

/// <summary>State in memory that can be told to refuse the writes of one grain, like a Redis that went away.</summary>
public sealed class FailableStateStore(IStateStore inner) : IStateStore
{
    public ConcurrentDictionary<string, bool> FailingGrains { get; } = new();

    /// <summary>Grains whose writes take a while, like a round trip to Redis under load.</summary>
    public ConcurrentDictionary<string, bool> SlowGrains { get; } = new();

    /// <summary>Grains whose next write waits, once arrived, until the test releases it.</summary>
    public ConcurrentDictionary<string, HeldWrite> HeldGrains { get; } = new();

    public Task<StoredState?> ReadAsync(string key) => inner.ReadAsync(key);

    public async Task<bool> WriteAsync(string key, StateWrite write)
    {
        if (FailingGrains.Keys.Any(grain => key.Contains(grain, StringComparison.Ordinal)))
        {
            throw new InvalidOperationException("state store unavailable");
        }

        if (HeldGrains.Keys.FirstOrDefault(grain => key.Contains(grain, StringComparison.Ordinal)) is { } heldGrain
            && HeldGrains.TryRemove(heldGrain, out var hold))
        {
            hold.Arrived.TrySetResult();
            await hold.Released.Task;
        }

        if (SlowGrains.Keys.Any(grain => key.Contains(grain, StringComparison.Ordinal)))
        {
            await Task.Delay(50);
        }

        return await inner.WriteAsync(key, write);
    }
}

/// <summary>One write held by <see cref="FailableStateStore"/>: it signals when it arrives and goes on when released.</summary>
public sealed class HeldWrite
{
    public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
