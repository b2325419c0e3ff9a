using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using StackExchange.Redis;

namespace PulseCart.Consumer.Quarantine;

/// <summary>
/// Shared by every silo of the cluster: each entry's metadata (JSON), body (bytes) and operator-edited body in three
/// hashes by id, their order in a list (LPUSH: newest first), and running totals of body bytes and evictions. One
/// script adds and trims, so the bounds hold however many silos add at once; operators' changes to an entry are
/// transactions conditional on the metadata they read, so two silos acting on one entry cannot overwrite each other.
/// </summary>
public sealed class RedisQuarantine(IConnectionMultiplexer redis, IOptions<QuarantineOptions> options) : IQuarantine
{
    public static readonly RedisKey Entries = "pulsecart:quarantine:entries";
    public static readonly RedisKey Bodies = "pulsecart:quarantine:bodies";
    public static readonly RedisKey Edited = "pulsecart:quarantine:edited";
    public static readonly RedisKey Order = "pulsecart:quarantine:order";
    public static readonly RedisKey TotalBytes = "pulsecart:quarantine:bytes";
    public static readonly RedisKey Evicted = "pulsecart:quarantine:evicted";

    // Evicts the oldest entries, except @keep, until both bounds hold or only @keep is left; @keep, met at the tail,
    // goes back there.
    private const string TrimKeeping = """
        local bytes = tonumber(redis.call('GET', @totalBytes) or '0')
        local count = redis.call('LLEN', @order)
        local held = nil
        local evicted = 0
        while count > 1 and (count > tonumber(@maxEntries) or bytes > tonumber(@maxBytes)) do
          local oldest = redis.call('RPOP', @order)
          if oldest == @keep then
            held = oldest
          else
            bytes = redis.call('DECRBY', @totalBytes, redis.call('HSTRLEN', @bodies, oldest) + redis.call('HSTRLEN', @edited, oldest))
            redis.call('HDEL', @entries, oldest)
            redis.call('HDEL', @bodies, oldest)
            redis.call('HDEL', @edited, oldest)
            count = count - 1
            evicted = evicted + 1
          end
        end
        if held then redis.call('RPUSH', @order, held) end
        if evicted > 0 then redis.call('INCRBY', @evicted, evicted) end
        return evicted
        """;

    // The newest entry stays even when it alone exceeds the byte bound: it is about to be acknowledged.
    private static readonly LuaScript AddAndTrim = LuaScript.Prepare("""
        redis.call('HSET', @entries, @keep, @metadata)
        redis.call('HSET', @bodies, @keep, @body)
        redis.call('LPUSH', @order, @keep)
        redis.call('INCRBY', @totalBytes, string.len(@body))
        """ + TrimKeeping);

    // An edited body counts toward the bound too; the entry being edited stays.
    private static readonly LuaScript Trim = LuaScript.Prepare(TrimKeeping);

    // Each body's length and start, cut inside Redis (which still reads each body whole): only what a listing shows
    // crosses the network. A length of -1 where there is no body apart.
    private const string Heads = """
        local answer = {}
        for i = 2, #ARGV do
          local body = redis.call('HGET', KEYS[1], ARGV[i])
          answer[#answer + 1] = body and string.len(body) or -1
          answer[#answer + 1] = body and string.sub(body, 1, tonumber(ARGV[1])) or ''
        end
        return answer
        """;

    public async Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default)
    {
        await redis.GetDatabase().ScriptEvaluateAsync(AddAndTrim, Arguments(entry.Id, Serialize(entry), entry.Body));
    }

    private Task TrimKeepingAsync(IDatabase database, string id) => database.ScriptEvaluateAsync(Trim, Arguments(id));

    // The scripts' @names; each script reads those it uses.
    private object Arguments(string keep, RedisValue metadata = default, ReadOnlyMemory<byte> body = default) => new
    {
        entries = Entries,
        bodies = Bodies,
        edited = Edited,
        order = Order,
        totalBytes = TotalBytes,
        evicted = Evicted,
        keep = (RedisValue)keep,
        metadata,
        body = (RedisValue)body,
        maxEntries = options.Value.MaxEntries,
        maxBytes = options.Value.MaxBytes,
    };

    public async Task<IReadOnlyList<QuarantineEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        // Metadata only: a page of a hundred one-megabyte bodies would be read whole to show 2 KiB of each.
        var database = redis.GetDatabase();
        return await MetadataAsync(database, await database.ListRangeAsync(Order, offset, offset + limit - 1));
    }

    public async Task<IReadOnlyList<BodyHead?>> HeadsAsync(IReadOnlyList<string> ids, int bytes, CancellationToken cancellationToken = default)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        // Length and head in pairs; the length is Redis's, since versions before this one could store a body_bytes of 0.
        var answer = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(
            Heads, [Bodies], [bytes, .. ids.Select(id => (RedisValue)id)]))!;
        var heads = new List<BodyHead?>(ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            var length = (long)answer[2 * i];
            heads.Add(length < 0 ? null : new BodyHead((int)length, (byte[])answer[2 * i + 1]!));
        }

        return heads;
    }

    public async IAsyncEnumerable<QuarantineEntry> ScanAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // In pages of ids, metadata only: bodies can be megabytes each, and grouping needs none of them.
        const int Page = 500;
        var database = redis.GetDatabase();
        for (long start = 0; ; start += Page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ids = await database.ListRangeAsync(Order, start, start + Page - 1);
            foreach (var entry in await MetadataAsync(database, ids))
            {
                yield return entry;
            }

            if (ids.Length < Page)
            {
                yield break;
            }
        }
    }

    // The entries with these ids, bodies left out (those kept apart); ids no longer kept are skipped.
    private static async Task<List<QuarantineEntry>> MetadataAsync(IDatabase database, RedisValue[] ids)
    {
        RedisValue[] metadata = ids.Length == 0 ? [] : await database.HashGetAsync(Entries, ids);
        return metadata.Where(json => json.HasValue).Select(json => Deserialize(json!, RedisValue.Null)).ToList();
    }

    public async Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var database = redis.GetDatabase();
        var metadata = database.HashGetAsync(Entries, id);
        var body = database.HashGetAsync(Bodies, id);
        var edited = database.HashGetAsync(Edited, id);
        if (!(await metadata).HasValue)
        {
            return null;
        }

        var entry = Deserialize((await metadata)!, await body);
        return (await edited).HasValue ? entry with { EditedBody = (byte[])(await edited)! } : entry;
    }

    public async Task<QuarantineEntry?> UpdateAsync(string id, Func<QuarantineEntry, QuarantineEntry> change, CancellationToken cancellationToken = default)
    {
        var database = redis.GetDatabase();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var metadata = await database.HashGetAsync(Entries, id);
            if (!metadata.HasValue)
            {
                return null;
            }

            var entry = Deserialize(metadata!, RedisValue.Null);
            var changed = change(entry);
            if (ReferenceEquals(changed, entry))
            {
                return entry;
            }

            var editChanged = changed.EditedAt != entry.EditedAt;
            changed = changed with { EditedBytes = changed.EditedAt is null ? 0 : editChanged ? changed.EditedBody.Length : entry.EditedBytes };
            var transaction = database.CreateTransaction();
            transaction.AddCondition(Condition.HashEqual(Entries, id, metadata));
            _ = transaction.HashSetAsync(Entries, id, Serialize(changed));
            if (!entry.Body.IsEmpty)
            {
                // Read without the bodies' hash, an entry has a body only when an earlier version kept it inside the
                // metadata, which is rewritten without it: the body moves to where this version keeps and counts bodies.
                transaction.AddCondition(Condition.HashNotExists(Bodies, id));
                _ = transaction.HashSetAsync(Bodies, id, entry.Body.ToArray());
                _ = transaction.StringIncrementAsync(TotalBytes, entry.Body.Length);
            }

            if (editChanged)
            {
                _ = transaction.HashSetAsync(Edited, id, changed.EditedBody);
                _ = transaction.StringIncrementAsync(TotalBytes, changed.EditedBytes - entry.EditedBytes);
            }

            if (await transaction.ExecuteAsync())
            {
                if (editChanged)
                {
                    await TrimKeepingAsync(database, id);
                }

                return changed;
            }
        }
    }

    public QuarantineStats? Stats()
    {
        try
        {
            var database = redis.GetDatabase();
            var batch = database.CreateBatch();
            var entries = batch.HashLengthAsync(Entries);
            var bytes = batch.StringGetAsync(TotalBytes);
            var evicted = batch.StringGetAsync(Evicted);
            batch.Execute();
            return new QuarantineStats(entries.Result, bytes.Result.IsNull ? 0 : (long)bytes.Result, evicted.Result.IsNull ? 0 : (long)evicted.Result);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or AggregateException)
        {
            return null;
        }
    }

    private static string Serialize(QuarantineEntry entry) => JsonSerializer.Serialize(entry, PulseCartJsonContext.Default.QuarantineEntry);

    private static QuarantineEntry Deserialize(string metadata, RedisValue body)
    {
        var entry = JsonSerializer.Deserialize(metadata, PulseCartJsonContext.Default.QuarantineEntry)!;
        if (!body.IsNull)
        {
            return entry with { Body = (byte[])body! };
        }

        // Earlier versions kept the body inside the metadata, as text or base64.
        var legacy = JsonSerializer.Deserialize(metadata, PulseCartJsonContext.Default.LegacyQuarantineBody);
        return legacy?.RawBody is { } raw
            ? entry with { Body = legacy.RawBodyEncoding == "base64" ? Convert.FromBase64String(raw) : Encoding.UTF8.GetBytes(raw) }
            : entry;
    }
}

/// <summary>How entries written before bodies were kept as bytes carried their body.</summary>
public sealed record LegacyQuarantineBody(string? RawBody, string? RawBodyEncoding);
