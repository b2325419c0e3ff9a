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

    private static Item Submit(GroupCommit<Item> commit, string name)
    {
        var item = new Item(name);
        commit.Submit(item);
        return item;
    }

    private sealed class Item(string name) : TaskCompletionSource, IGroupCommitItem
    {
        public string Name { get; } = name;

        public void Fail(Exception exception) => TrySetException(exception);
    }
}
