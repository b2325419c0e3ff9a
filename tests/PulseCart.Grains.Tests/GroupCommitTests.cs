using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Tests;

/// <summary>Writes submitted at the same moment leave together, and nothing waits behind a batch that failed.</summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task WhatArrivesWhileABatchIsOnItsWayLeavesTogetherInTheNextOne()
    {
        var first = new TaskCompletionSource();
        var sent = new List<string[]>();
        var commit = new GroupCommit<Item>(
            async batch =>
            {
                sent.Add(batch.Select(item => item.Name).ToArray());
                if (sent.Count == 1)
                {
                    await first.Task;
                }

                foreach (var item in batch)
                {
                    item.TrySetResult();
                }
            },
            maxBatch: 100);

        var a = Submit(commit, "a");
        var b = Submit(commit, "b");
        var c = Submit(commit, "c");
        first.SetResult();
        await Task.WhenAll(a.Task, b.Task, c.Task);

        Assert.Equal([["a"], ["b", "c"]], sent);
    }

    [Fact]
    public async Task WhenABatchFailsWhatWaitsBehindItFailsAtOnceWithoutBeingSent()
    {
        var first = new TaskCompletionSource();
        var sent = 0;
        var commit = new GroupCommit<Item>(
            async batch =>
            {
                Interlocked.Increment(ref sent);
                await first.Task;
            },
            maxBatch: 100);

        var a = Submit(commit, "a");
        var b = Submit(commit, "b");
        first.SetException(new TimeoutException("Redis did not answer"));

        await Assert.ThrowsAsync<TimeoutException>(() => a.Task);
        await Assert.ThrowsAsync<TimeoutException>(() => b.Task);
        Assert.Equal(1, sent);

        // The next submission is sent afresh.
        var c = Submit(commit, "c");
        await Assert.ThrowsAsync<TimeoutException>(() => c.Task);
        Assert.Equal(2, sent);
    }

    [Fact]
    public async Task LaterBatchesDoNotWaitForTheSchedulerOfTheCallerThatStartedTheFirst()
    {
        // The first submission comes from a grain's turn. Once that turn is over, its scheduler is busy with other work
        // (here: runs nothing more); the batches after the first must still leave and complete.
        var redis = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var commit = new GroupCommit<Item>(
            async batch =>
            {
                await redis.Task.ConfigureAwait(false); // as the Redis store's sends do
                foreach (var item in batch)
                {
                    item.TrySetResult();
                }
            },
            maxBatch: 100);
        var grainTurn = new RunsOneTask();
        var a = await Task.Factory.StartNew(() => Submit(commit, "a"), CancellationToken.None, TaskCreationOptions.None, grainTurn);
        var b = Submit(commit, "b");

        redis.SetResult();

        await a.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await b.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static Item Submit(GroupCommit<Item> commit, string name)
    {
        var item = new Item(name);
        commit.Submit(item);
        return item;
    }

    /// <summary>A scheduler that runs the first task queued to it and nothing after: a grain busy with other turns.</summary>
    private sealed class RunsOneTask : TaskScheduler
    {
        private int _ran;

        protected override void QueueTask(Task task)
        {
            if (Interlocked.Exchange(ref _ran, 1) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_ => TryExecuteTask(task), null);
            }
        }

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

        protected override IEnumerable<Task> GetScheduledTasks() => [];
    }

    private sealed class Item(string name) : TaskCompletionSource, IGroupCommitItem
    {
        public string Name { get; } = name;

        public void Fail(Exception exception) => TrySetException(exception);
    }
}
