using System.Globalization;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;

namespace PulseCart.Grains.Persistence;

/// <summary>
/// Orleans grain storage for <see cref="IStoredState"/>: a compact record plus key set members stored one by one, under a
/// version that every write checks (a stale writer gets <see cref="InconsistentStateException"/>, as Orleans expects).
/// Keys are those of Orleans' Redis provider, <c>{service id}/state/{grain id}/{state name}</c>, so state that provider
/// wrote is found, read with <paramref name="legacy"/>, and replaced on the grain's next write. A write that fails drops
/// the activation that asked for it (<paramref name="activations"/> names it).
/// </summary>
public sealed class PulseCartGrainStorage(
    IStateStore store, IOptions<ClusterOptions> cluster, IGrainStorageSerializer legacy, IGrainContextAccessor activations)
    : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private const string LegacyVersionPrefix = "legacy:";

    [ThreadStatic]
    private static RecordWriter? t_writer;

    private readonly string _keyPrefix = $"{cluster.Value.ServiceId}/state/";

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            var stored = await store.ReadAsync(Key(stateName, grainId));
            if (stored is null)
            {
                grainState.ETag = null;
                grainState.RecordExists = false;
                return;
            }

            Apply(stored, stateName, grainId, grainState);
        }
        finally
        {
            Ended(grainState);
        }
    }

    // What was read, in either format, into the grain's state; anything unreadable is the record's fault, not Redis'.
    private void Apply<T>(StoredState stored, string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            if (stored.LegacyState is { } legacyState)
            {
                grainState.State = legacy.Deserialize<T>(new BinaryData(legacyState))!;
                grainState.ETag = LegacyVersionPrefix + stored.Version;
            }
            else
            {
                Load(Stored(grainState.State), stored);
                grainState.ETag = stored.Version;
            }
        }
        catch (Exception exception) when (exception is not NotSupportedException)
        {
            throw new CorruptStateException($"The stored {stateName} of {grainId} cannot be read: {exception.Message}", exception);
        }

        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // The grain's memory already holds what this write was to store. If storage did not take it, for whatever
        // reason, the activation goes, so that the retried delivery starts again from what storage has (here rather
        // than in every grain: one await fewer per event).
        var activation = activations.GrainContext;
        var expected = grainState.ETag ?? "";
        try
        {
            IReadOnlyList<IStoredKeySet> sets = [];
            bool written;
            string newVersion;
            try
            {
                var state = Stored(grainState.State);
                sets = state.KeySets;
                (var write, newVersion) = Prepare(state, expected);
                written = await store.WriteAsync(Key(stateName, grainId), write);
            }
            catch
            {
                Lost(sets);
                Drop(activation);
                throw;
            }

            if (!written)
            {
                Lost(sets);
                Drop(activation);
                throw new InconsistentStateException(
                    $"Version conflict writing {stateName} of {grainId}: storage no longer holds version '{expected}'.", expected, "(newer)");
            }

            grainState.ETag = newVersion;
            grainState.RecordExists = true;
        }
        finally
        {
            Ended(grainState);
        }
    }

    // Once per operation, as its last step (DirectPersistentState lets its task go). This runs on the grain's scheduler: the
    // store completes its tasks on its own threads, but the awaits above resume on the scheduler they started on.
    private static void Ended<T>(IGrainState<T> grainState) => (grainState as DirectPersistentState<T>)?.OperationEnded();

    // A write that may or may not have reached storage (or met another's): a write queued behind it on this activation
    // cannot know which of its changes storage holds, so it stores every set whole.
    private static void Lost(IReadOnlyList<IStoredKeySet> sets)
    {
        foreach (var set in sets)
        {
            set.Changes.Lost();
        }
    }

    private static (StateWrite Write, string NewVersion) Prepare(IStoredState state, string expected)
    {
        // A new record, one Orleans' provider wrote, or one whose last write from here may or may not have happened:
        // everything is written; otherwise only what changed. A version only grows; it starts at 1 in this format.
        var firstVersion = expected.Length == 0 || expected.StartsWith(LegacyVersionPrefix, StringComparison.Ordinal);
        var sets = state.KeySets;
        var replaceAll = firstVersion;
        for (var i = 0; i < sets.Count && !replaceAll; i++)
        {
            replaceAll = sets[i].Changes.Unsure;
        }

        var version = firstVersion ? 1 : long.Parse(expected, CultureInfo.InvariantCulture) + 1;
        var (added, removed) = replaceAll ? Everything(sets) : Changes(sets);
        for (var i = 0; i < sets.Count; i++)
        {
            sets[i].Changes.Clear();
        }

        var writer = t_writer ??= new RecordWriter();
        writer.Reset();
        state.WriteRecord(writer);
        var newVersion = version.ToString(CultureInfo.InvariantCulture);
        return (new StateWrite(expected, newVersion, writer.Written.ToArray(), added, removed, replaceAll), newVersion);
    }

    /// <summary>
    /// Nothing to do at any stage; being a participant makes the silo build this storage, and the store's Redis
    /// connection, while it starts, instead of inside the first activation, where a connection that blocks while it
    /// connects would stall that grain's scheduler.
    /// </summary>
    public void Participate(ISiloLifecycle lifecycle)
    {
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Ended(grainState);
        return Task.FromException(new NotSupportedException("Carts and orders are never cleared; their ids age out of the dedup window instead."));
    }

    private static (StoredKey[] Added, StoredKey[] Removed) Everything(IReadOnlyList<IStoredKeySet> sets)
    {
        var added = new StoredKey[sets.Sum(set => set.Entries.Count)];
        var next = 0;
        foreach (var set in sets)
        {
            foreach (var (key, at) in set.Entries)
            {
                added[next++] = new StoredKey(set.Tag, key, at.UtcTicks);
            }
        }

        return (added, []);
    }

    private static (StoredKey[] Added, StoredKey[] Removed) Changes(IReadOnlyList<IStoredKeySet> sets)
    {
        int addedCount = 0, removedCount = 0;
        foreach (var set in sets)
        {
            addedCount += set.Changes.Added?.Count ?? 0;
            removedCount += set.Changes.Removed?.Count ?? 0;
        }

        var added = addedCount == 0 ? [] : new StoredKey[addedCount];
        var removed = removedCount == 0 ? [] : new StoredKey[removedCount];
        int nextAdded = 0, nextRemoved = 0;
        foreach (var set in sets)
        {
            if (set.Changes.Added is { Count: > 0 } addedKeys)
            {
                foreach (var key in addedKeys)
                {
                    added[nextAdded++] = new StoredKey(set.Tag, key, set.Entries[key].UtcTicks);
                }
            }

            if (set.Changes.Removed is { Count: > 0 } removedKeys)
            {
                foreach (var key in removedKeys)
                {
                    removed[nextRemoved++] = new StoredKey(set.Tag, key, 0);
                }
            }
        }

        return (added, removed);
    }

    private static void Load(IStoredState state, StoredState stored)
    {
        var reader = new RecordReader(stored.Record.Span);
        state.ReadRecord(ref reader);
        var sets = state.KeySets;
        foreach (var set in sets)
        {
            set.Entries.Clear();
            set.Changes.Clear();
        }

        foreach (var key in stored.Keys)
        {
            foreach (var set in sets)
            {
                if (set.Tag == key.Tag)
                {
                    set.Entries[key.Key] = new DateTimeOffset(key.UtcTicks, TimeSpan.Zero);
                }
            }
        }
    }

    private static void Drop(IGrainContext? activation) =>
        activation?.Deactivate(new DeactivationReason(
            DeactivationReasonCode.ApplicationError, "its state could not be written; the next call reads it again from storage"));

    private string Key(string stateName, GrainId grainId) => $"{_keyPrefix}{grainId}/{stateName}";

    private static IStoredState Stored<T>(T state) => state as IStoredState
        ?? throw new NotSupportedException($"{typeof(T).Name} does not implement {nameof(IStoredState)}, which {nameof(PulseCartGrainStorage)} stores.");
}
