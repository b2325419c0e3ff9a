using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class DirectPersistentStateTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AWriteAskedForWhileAnotherIsUnderWayFollowsIt()
    {
        var key = $"probe-{Guid.NewGuid():N}";
        fixture.States.SlowGrains[key] = true;
        var grain = fixture.Grains.GetGrain<IWriteProbeGrain>(key);

        // Side by side, the second write would carry the version the first is replacing and be refused as a conflict.
        await grain.WriteTwiceWithoutWaitingAsync(1, 2);

        Assert.Equal(2, await grain.StoredValueAsync());
    }

    [Fact]
    public async Task AFailedWriteThatWaitedForAnotherStillDropsItsActivation()
    {
        var key = $"probe-{Guid.NewGuid():N}";
        var held = new HeldWrite();
        fixture.States.HeldGrains[key] = held;
        var grain = fixture.Grains.GetGrain<IWriteProbeGrain>(key);

        // The first write is held in the store; the second waits for it, and then meets a store that refuses it.
        var writes = grain.WriteTwiceWithoutWaitingAsync(1, 2);
        await held.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        fixture.States.FailingGrains[key] = true;
        held.Released.SetResult();
        await Assert.ThrowsAsync<InvalidOperationException>(() => writes);
        fixture.States.FailingGrains.TryRemove(key, out _);

        // Had the activation stayed, it would answer from memory with the value storage never took.
        Assert.Equal(1, await grain.ValueInMemoryAsync());
    }

    [Fact]
    public async Task FinishedWritesAreNotKeptByTheState()
    {
        var key = $"probe-{Guid.NewGuid():N}";
        fixture.States.SlowGrains[key] = true; // a write that finishes at once is a shared, cached task
        var grain = fixture.Grains.GetGrain<IWriteProbeGrain>(key);

        // Kept, the last one stayed in memory with its grain (and was carried into an older generation by every
        // collection while the grain waited for its next event).
        Assert.False(await grain.KeepsFinishedWritesAsync(3));
        Assert.Equal(4, await grain.StoredValueAsync());
    }

    [Fact]
    public async Task KeysAddedWhileAWriteIsUnderWayReachStorageWithTheNextWrite()
    {
        var key = $"keys-{Guid.NewGuid():N}";
        fixture.States.SlowGrains[key] = true;
        var grain = fixture.Grains.GetGrain<IKeySetProbeGrain>(key);

        // "b" is added while the write carrying "a" waits on the store; the write after it must carry "b".
        await grain.AddWhileWritingAsync("a", "b");

        Assert.Equal(["a", "b"], await grain.StoredKeysAsync());
    }

    [Fact]
    public async Task AKeyRemovedWhileTheWriteCarryingItIsUnderWayLeavesStorage()
    {
        var key = $"keys-{Guid.NewGuid():N}";
        fixture.States.SlowGrains[key] = true;
        var grain = fixture.Grains.GetGrain<IKeySetProbeGrain>(key);
        await grain.AddWhileWritingAsync("kept", "also-kept");

        await grain.RemoveWhileWritingAsync("gone");

        Assert.Equal(["also-kept", "kept"], await grain.StoredKeysAsync());
    }

    [Fact]
    public async Task AWriteBehindAFailedOneStoresTheKeysWhole()
    {
        var key = $"keys-{Guid.NewGuid():N}";
        var grain = fixture.Grains.GetGrain<IKeySetProbeGrain>(key);
        await grain.AddWhileWritingAsync("x", "y"); // a record in storage: later writes send what changed
        var held = new HeldWrite();
        fixture.States.HeldGrains[key] = held;

        // The write carrying "a" fails after the grain added "b"; the write queued behind it cannot tell whether storage
        // took "a", so it stores every key.
        var writes = grain.AddWhileWritingAsync("a", "b");
        await held.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        held.Released.SetException(new InvalidOperationException("state store unavailable"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writes);

        Assert.Equal(["a", "b", "x", "y"], await grain.StoredKeysAsync());
    }

    [Fact]
    public async Task AStateNeverReadCannotBeWritten()
    {
        var forgetful = fixture.Grains.GetGrain<IUnreadProbeGrain>($"probe-{Guid.NewGuid():N}");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => forgetful.WriteWithoutReadingAsync(7));

        Assert.Contains("OnActivateAsync", refused.Message);
        Assert.False(await forgetful.StorageHoldsARecordAsync());
    }
}

public interface IUnreadProbeGrain : IGrainWithStringKey
{
    Task WriteWithoutReadingAsync(int value);

    Task<bool> StorageHoldsARecordAsync();
}

/// <summary>A grain that forgot to read its state when it activated.</summary>
public sealed class UnreadProbeGrain([PersistentState("probe", GrainStorage.Name)] IPersistentState<ProbeState> state)
    : Grain, IUnreadProbeGrain
{
    public Task WriteWithoutReadingAsync(int value)
    {
        state.State.Value = value;
        return state.WriteStateAsync();
    }

    public async Task<bool> StorageHoldsARecordAsync()
    {
        await state.ReadStateAsync();
        return state.RecordExists;
    }
}

public interface IWriteProbeGrain : IGrainWithStringKey
{
    Task WriteTwiceWithoutWaitingAsync(int first, int second);

    /// <summary>Writes value and value + 1 without waiting in between; then whether either write's task is still alive.</summary>
    Task<bool> KeepsFinishedWritesAsync(int value);

    /// <summary>The value as storage holds it, read again.</summary>
    Task<int> StoredValueAsync();

    /// <summary>The value as this activation holds it.</summary>
    Task<int> ValueInMemoryAsync();
}

public sealed class WriteProbeGrain([PersistentState("probe", GrainStorage.Name)] IPersistentState<ProbeState> state)
    : Grain, IWriteProbeGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) => state.ReadOnActivationAsync();

    public async Task WriteTwiceWithoutWaitingAsync(int first, int second)
    {
        state.State.Value = first;
        var firstWrite = state.WriteStateAsync();
        state.State.Value = second;
        await Task.WhenAll(firstWrite, state.WriteStateAsync());
    }

    public async Task<bool> KeepsFinishedWritesAsync(int value)
    {
        var (first, second) = await WriteTwiceAndWatchAsync(value);
        await Task.Yield(); // off the stack of the write's completion, which ran this continuation inline
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return first.IsAlive || second.IsAlive;
    }

    private async Task<(WeakReference First, WeakReference Second)> WriteTwiceAndWatchAsync(int value)
    {
        state.State.Value = value;
        var first = state.WriteStateAsync();
        state.State.Value = value + 1;
        var second = state.WriteStateAsync();
        await Task.WhenAll(first, second);
        return (new WeakReference(first), new WeakReference(second));
    }

    public Task<int> ValueInMemoryAsync() => Task.FromResult(state.State.Value);

    public async Task<int> StoredValueAsync()
    {
        state.State.Value = -1;
        await state.ReadStateAsync();
        return state.State.Value;
    }
}

public sealed class ProbeState : IStoredState
{
    public int Value { get; set; }

    public IReadOnlyList<IStoredKeySet> KeySets => [];

    public void WriteRecord(RecordWriter writer)
    {
        writer.Byte(1);
        writer.Int(Value);
    }

    public void ReadRecord(ref RecordReader reader)
    {
        reader.Byte();
        Value = reader.Int();
    }
}

public interface IKeySetProbeGrain : IGrainWithStringKey
{
    /// <summary>Adds first and writes; adds second while that write is under way, and writes again.</summary>
    Task AddWhileWritingAsync(string first, string second);

    /// <summary>Adds the key and writes; removes it while that write is under way, and writes again.</summary>
    Task RemoveWhileWritingAsync(string key);

    /// <summary>The keys as storage holds them, read again, in order.</summary>
    Task<string[]> StoredKeysAsync();
}

public sealed class KeySetProbeGrain([PersistentState("keys", GrainStorage.Name)] IPersistentState<KeySetProbeState> state)
    : Grain, IKeySetProbeGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) => state.ReadOnActivationAsync();

    public async Task AddWhileWritingAsync(string first, string second)
    {
        state.State.Keys.Add(first);
        var firstWrite = state.WriteStateAsync();
        state.State.Keys.Add(second);
        await Task.WhenAll(firstWrite, state.WriteStateAsync());
    }

    public async Task RemoveWhileWritingAsync(string key)
    {
        state.State.Keys.Add(key);
        var firstWrite = state.WriteStateAsync();
        state.State.Keys.Remove(key);
        await Task.WhenAll(firstWrite, state.WriteStateAsync());
    }

    public async Task<string[]> StoredKeysAsync()
    {
        await state.ReadStateAsync();
        return [.. state.State.Keys.Entries.Keys.Order(StringComparer.Ordinal)];
    }
}

public sealed class KeySetProbeState : IStoredState
{
    public ProbeKeys Keys { get; } = new();

    public IReadOnlyList<IStoredKeySet> KeySets => [Keys];

    public void WriteRecord(RecordWriter writer) => writer.Byte(1);

    public void ReadRecord(ref RecordReader reader) => reader.Byte();
}

public sealed class ProbeKeys : IStoredKeySet
{
    public byte Tag => (byte)'k';

    public Dictionary<string, DateTimeOffset> Entries { get; } = new(StringComparer.Ordinal);

    public KeyChanges Changes { get; } = new();

    public void Add(string key)
    {
        Entries[key] = DateTimeOffset.UtcNow;
        Changes.Add(key);
    }

    public void Remove(string key)
    {
        Entries.Remove(key);
        Changes.Remove(key);
    }
}
