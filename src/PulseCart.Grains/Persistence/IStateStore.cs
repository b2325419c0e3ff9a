namespace PulseCart.Grains.Persistence;

/// <summary>Where <see cref="PulseCartGrainStorage"/> keeps grain state: in this process, or in Redis shared by every silo.</summary>
public interface IStateStore
{
    /// <summary>The state under <paramref name="key"/>, or null when there is none.</summary>
    Task<StoredState?> ReadAsync(string key);

    /// <summary>
    /// Applies <paramref name="write"/> if the stored version is still <see cref="StateWrite.ExpectedVersion"/>; false when
    /// another writer got there first (the caller throws <c>InconsistentStateException</c>). Throws when storage is unavailable.
    /// </summary>
    Task<bool> WriteAsync(string key, StateWrite write);
}

/// <summary>One key set member as stored: its set's tag, the key, and when it was added (UTC ticks).</summary>
public readonly record struct StoredKey(byte Tag, string Key, long UtcTicks);

/// <summary>
/// A grain's stored state: a version, the record and the key set members; or, for state an earlier version wrote with
/// Orleans' Redis provider, that provider's etag and serialized state.
/// </summary>
public sealed record StoredState(string Version, ReadOnlyMemory<byte> Record, IReadOnlyList<StoredKey> Keys, ReadOnlyMemory<byte>? LegacyState = null);

/// <summary>
/// A change to one grain's state: the new record, key set members added and removed, all applied together or not at all.
/// <see cref="ReplaceAll"/> drops whatever was stored first (state written by an earlier version).
/// </summary>
public sealed record StateWrite(
    string ExpectedVersion,
    string NewVersion,
    ReadOnlyMemory<byte> Record,
    StoredKey[] Added,
    StoredKey[] Removed,
    bool ReplaceAll);
