using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace PulseCart.Grains.Persistence;

/// <summary>
/// Grain state in Redis, one hash per grain: <c>v</c> (version), <c>r</c> (record) and one field per key set member
/// (<c>e:{event id}</c>, <c>m:{message key}</c>) holding when it was added. Reads of grains activating at the same moment
/// go as one script, and so do writes of grains committing at the same moment; each grain's write is applied only if its
/// version is still the one it read, and nothing is acknowledged before Redis has it. Hashes Orleans' Redis provider wrote
/// (<c>etag</c>, <c>data</c>) are read as they are and replaced on the grain's next write.
/// </summary>
/// <remarks>One script touches many keys: on a Redis Cluster every key of a batch must share a slot, so run a single
/// primary (Memorystore standard tier), as deploy/ does.</remarks>
public sealed class RedisStateStore : IStateStore
{
    private const int MaxBatch = 128;

    // A key of another type fails only its own read: its error comes back as a one-element array in its place
    // (a hash always has an even count), where redis.call would abort the script and every read in the batch. Any
    // other error (out of memory, a missing permission) is the server's, not the key's: the batch fails, retried.
    private const string ReadScript = """
        local hashes = {}
        for i = 1, #KEYS do
          local hash = redis.pcall('HGETALL', KEYS[i])
          if hash.err then
            if string.sub(hash.err, 1, 9) ~= 'WRONGTYPE' then return hash end
            hash = {hash.err}
          end
          hashes[i] = hash
        end
        return hashes
        """;

    // Per grain, ARGV holds: expected version, new version, record, replace-all flag, number of members added,
    // then field and value of each, number removed, then the field of each. The version, the record and the first
    // members added go in one HSET (a command fewer per grain and event); a new key has nothing to delete. Members
    // go 1,000 values at a time, within what unpack can pass. The version is read with pcall, so a key that is no
    // longer a hash fails its own version check instead of the whole batch.
    private const string WriteScript = """
        local written = {}
        local a = 1
        for i = 1, #KEYS do
          local key = KEYS[i]
          local expected, version, record, replaceAll = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
          local added = tonumber(ARGV[a + 4])
          local firstAdded = a + 5
          local removedAt = firstAdded + 2 * added
          local removed = tonumber(ARGV[removedAt])
          a = removedAt + 1 + removed
          local current
          if expected == '' then
            current = redis.call('EXISTS', key) == 0
          elseif string.sub(expected, 1, 7) == 'legacy:' then
            current = redis.pcall('HGET', key, 'etag') == string.sub(expected, 8)
          else
            current = redis.pcall('HGET', key, 'v') == expected
          end
          if current then
            if replaceAll == '1' and expected ~= '' then redis.call('DEL', key) end
            local lastWithRecord = math.min(firstAdded + 997, removedAt - 1)
            redis.call('HSET', key, 'v', version, 'r', record, unpack(ARGV, firstAdded, lastWithRecord))
            for s = lastWithRecord + 1, removedAt - 1, 1000 do
              redis.call('HSET', key, unpack(ARGV, s, math.min(s + 999, removedAt - 1)))
            end
            for s = removedAt + 1, removedAt + removed, 1000 do
              redis.call('HDEL', key, unpack(ARGV, s, math.min(s + 999, removedAt + removed)))
            end
            written[i] = 1
          else
            written[i] = 0
          end
        end
        return written
        """;

    private static readonly RedisValue VersionField = "v";
    private static readonly RedisValue RecordField = "r";
    private static readonly RedisValue LegacyEtagField = "etag";
    private static readonly RedisValue LegacyDataField = "data";

    private readonly IConnectionMultiplexer _redis;
    private readonly GroupCommit<PendingRead> _reads;
    private readonly GroupCommit<PendingWrite> _writes;

    public RedisStateStore(IConnectionMultiplexer redis)
    {
        _redis = redis;
        _reads = new GroupCommit<PendingRead>(ReadBatchAsync, MaxBatch);
        _writes = new GroupCommit<PendingWrite>(WriteBatchAsync, MaxBatch);
    }

    public Task<StoredState?> ReadAsync(string key)
    {
        var read = new PendingRead(key);
        _reads.Submit(read);
        return read.Task;
    }

    public Task<bool> WriteAsync(string key, StateWrite write)
    {
        var pending = new PendingWrite(key, write);
        _writes.Submit(pending);
        return pending.Task;
    }

    private async Task ReadBatchAsync(IReadOnlyList<PendingRead> batch)
    {
        var keys = new RedisKey[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            keys[i] = batch[i].Key;
        }

        var hashes = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(ReadScript, keys).ConfigureAwait(false))!;
        for (var i = 0; i < batch.Count; i++)
        {
            StoredState? state;
            try
            {
                state = Parse((RedisResult[])hashes[i]!);
            }
            catch (Exception exception)
            {
                batch[i].Fail(new CorruptStateException($"The state stored under {batch[i].Key} cannot be read: {exception.Message}", exception));
                continue;
            }

            batch[i].Complete(state);
        }
    }

    private async Task WriteBatchAsync(IReadOnlyList<PendingWrite> batch)
    {
        var keys = new RedisKey[batch.Count];
        var count = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            count += 6 + 2 * batch[i].Write.Added.Length + batch[i].Write.Removed.Length;
        }

        var values = new RedisValue[count];
        var next = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var write = batch[i].Write;
            keys[i] = batch[i].Key;
            values[next++] = write.ExpectedVersion;
            values[next++] = write.NewVersion;
            values[next++] = write.Record;
            values[next++] = write.ReplaceAll ? 1 : 0;
            values[next++] = write.Added.Length;
            foreach (var added in write.Added)
            {
                values[next++] = Field(added);
                values[next++] = added.UtcTicks;
            }

            values[next++] = write.Removed.Length;
            foreach (var removed in write.Removed)
            {
                values[next++] = Field(removed);
            }
        }

        var written = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(WriteScript, keys, values).ConfigureAwait(false))!;
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Complete((int)written[i] == 1);
        }
    }

    private static RedisValue Field(StoredKey key)
    {
        var field = new byte[2 + Encoding.UTF8.GetByteCount(key.Key)];
        field[0] = key.Tag;
        field[1] = (byte)':';
        Encoding.UTF8.GetBytes(key.Key, field.AsSpan(2));
        return field;
    }

    private static StoredState? Parse(RedisResult[] hash)
    {
        if (hash.Length == 0)
        {
            return null;
        }

        if (hash.Length % 2 == 1)
        {
            throw new InvalidDataException((string?)hash[0] ?? "not a hash");
        }

        string? version = null;
        string? legacyEtag = null;
        ReadOnlyMemory<byte>? record = null;
        ReadOnlyMemory<byte>? legacyData = null;
        var keys = new List<StoredKey>(hash.Length / 2);
        for (var i = 0; i < hash.Length; i += 2)
        {
            var field = (RedisValue)hash[i];
            var value = (RedisValue)hash[i + 1];
            if (field == VersionField)
            {
                version = value;
            }
            else if (field == LegacyEtagField)
            {
                legacyEtag = value;
            }
            else if (field == RecordField)
            {
                record = (byte[])value!;
            }
            else if (field == LegacyDataField)
            {
                legacyData = (byte[])value!;
            }
            else
            {
                var bytes = (byte[])field!;
                keys.Add(new StoredKey(bytes[0], Encoding.UTF8.GetString(bytes, 2, bytes.Length - 2), (long)value));
            }
        }

        // What the next write checks is the etag of Orleans' provider's format or the version of ours; a hash with
        // fields of both, or without the one its format needs, would fail that check on every delivery.
        if (legacyData is { } legacy)
        {
            return legacyEtag is null || version is not null || record is not null || keys.Count > 0
                ? throw new InvalidDataException("Orleans' provider's data with a missing etag or fields of this format")
                : new StoredState(legacyEtag, default, [], legacy);
        }

        if (legacyEtag is not null)
        {
            throw new InvalidDataException("an etag without Orleans' provider's data");
        }

        if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new InvalidDataException(version is null ? "no version" : $"version '{version}' is not a number");
        }

        return new StoredState(version, record ?? default, keys);
    }

    private sealed class PendingRead(string key) : TaskCompletionSource<StoredState?>, IGroupCommitItem
    {
        public string Key { get; } = key;

        public void Complete(StoredState? state) => TrySetResult(state);

        public void Fail(Exception exception) => TrySetException(exception);
    }

    private sealed class PendingWrite(string key, StateWrite write) : TaskCompletionSource<bool>, IGroupCommitItem
    {
        public string Key { get; } = key;

        public StateWrite Write { get; } = write;

        public void Complete(bool written) => TrySetResult(written);

        public void Fail(Exception exception) => TrySetException(exception);
    }
}
