using System.Collections.Concurrent;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Reminders;

namespace PulseCart.Cluster.Tests;

/// <summary>
/// What the messaging service received from every silo of a cluster: one shared ledger, as one real service
/// would be, so a message sent twice by two silos shows up twice.
/// </summary>
public sealed class MessageLedger
{
    private readonly ConcurrentQueue<(string Silo, OutboundMessage Message)> _sent = new();

    public int Count => _sent.Count;

    /// <summary>When set, every send fails with what this makes, as a failing sink would.</summary>
    public Func<Exception>? Failure { get; set; }

    /// <summary>The silos on which a send failed, in order.</summary>
    public ConcurrentQueue<string> FailedOn { get; } = new();

    public IReadOnlyList<OutboundMessage> WithKey(string idempotencyKey) =>
        _sent.Where(entry => entry.Message.IdempotencyKey == idempotencyKey).Select(entry => entry.Message).ToList();

    public IReadOnlyList<string> SilosThatSent(string idempotencyKey) =>
        _sent.Where(entry => entry.Message.IdempotencyKey == idempotencyKey).Select(entry => entry.Silo).ToList();

    public void Record(string silo, OutboundMessage message) => _sent.Enqueue((silo, message));
}

/// <summary>Every task the silos of a cluster asked the queue to schedule or delete.</summary>
public sealed class TaskLedger
{
    private readonly ConcurrentQueue<(string Silo, ReminderTask Task)> _scheduled = new();
    private readonly ConcurrentQueue<string> _deleted = new();

    public int Count => _scheduled.Count;

    /// <summary>When set, every schedule fails with what this makes, as a failing queue would.</summary>
    public Func<Exception>? Failure { get; set; }

    /// <summary>The silos on which a schedule failed, in order.</summary>
    public ConcurrentQueue<string> FailedOn { get; } = new();

    public IReadOnlyList<ReminderTask> ScheduledFor(string cartId) =>
        _scheduled.Where(entry => entry.Task.CartId == cartId).Select(entry => entry.Task).ToList();

    public bool WasDeleted(string taskName) => _deleted.Contains(taskName);

    public void RecordScheduled(string silo, ReminderTask task) => _scheduled.Enqueue((silo, task));

    public void RecordDeleted(string taskName) => _deleted.Enqueue(taskName);
}

/// <summary>One silo's message sink: records into the cluster's ledger under the silo's name.</summary>
public sealed class SiloMessageSender(string silo, MessageLedger ledger) : IMessageSender
{
    public string Sink => "recording";

    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
    {
        // Yield so that two activations of one grain, if there ever were two, would interleave here.
        await Task.Yield();
        if (ledger.Failure is { } failure)
        {
            ledger.FailedOn.Enqueue(silo);
            throw failure();
        }

        ledger.Record(silo, message);
    }
}

/// <summary>One silo's task queue: records into the cluster's ledger under the silo's name.</summary>
public sealed class SiloTaskQueue(string silo, TaskLedger ledger) : ITaskQueue
{
    public async Task<string> ScheduleAsync(ReminderTask task, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        if (ledger.Failure is { } failure)
        {
            ledger.FailedOn.Enqueue(silo);
            throw failure();
        }

        ledger.RecordScheduled(silo, task);
        return $"queues/test/tasks/{task.ReminderId}";
    }

    public Task DeleteAsync(string taskName, CancellationToken cancellationToken = default)
    {
        ledger.RecordDeleted(taskName);
        return Task.CompletedTask;
    }
}
