using System.Collections.Concurrent;

namespace PulseCart.Grains.Persistence;

/// <summary>
/// State in this process, for a laptop and for tests: the same versions and key sets as in Redis, so grains behave alike,
/// but gone when the process stops. A write copies only what changed.
/// </summary>
public sealed class MemoryStateStore : IStateStore
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public Task<StoredState?> ReadAsync(string key)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return Task.FromResult<StoredState?>(null);
        }

        lock (entry)
        {
            if (entry.Version.Length == 0)
            {
                return Task.FromResult<StoredState?>(null);
            }

            var keys = entry.Keys.Select(member => new StoredKey(member.Key.Tag, member.Key.Key, member.Value)).ToList();
            return Task.FromResult<StoredState?>(new StoredState(entry.Version, entry.Record, keys));
        }
    }

    public Task<bool> WriteAsync(string key, StateWrite write)
    {
        var entry = _entries.GetOrAdd(key, static _ => new Entry());
        lock (entry)
        {
            if (entry.Version != write.ExpectedVersion)
            {
                return Task.FromResult(false);
            }

            if (write.ReplaceAll)
            {
                entry.Keys.Clear();
            }

            entry.Version = write.NewVersion;
            entry.Record = write.Record.ToArray();
            foreach (var added in write.Added)
            {
                entry.Keys[(added.Tag, added.Key)] = added.UtcTicks;
            }

            foreach (var removed in write.Removed)
            {
                entry.Keys.Remove((removed.Tag, removed.Key));
            }

            return Task.FromResult(true);
        }
    }

    private sealed class Entry
    {
        // "" until the first write: the version a grain without a record expects.
        public string Version { get; set; } = "";

        public byte[] Record { get; set; } = [];

        public Dictionary<(byte Tag, string Key), long> Keys { get; } = [];
    }
}
