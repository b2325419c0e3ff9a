using System.Text.Json;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using StackExchange.Redis;

namespace PulseCart.Consumer.Quarantine;

/// <summary>
/// Shared by every silo of the cluster: entries in a hash by id, their order in a list (LPUSH: newest first),
/// trimmed to <see cref="QuarantineOptions.MaxEntries"/>.
/// </summary>
public sealed class RedisQuarantine(IConnectionMultiplexer redis, IOptions<QuarantineOptions> options) : IQuarantine
{
    public static readonly RedisKey Entries = "pulsecart:quarantine:entries";
    public static readonly RedisKey Order = "pulsecart:quarantine:order";

    public async Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default)
    {
        var database = redis.GetDatabase();
        var transaction = database.CreateTransaction();
        _ = transaction.HashSetAsync(Entries, entry.Id, Serialize(entry));
        _ = transaction.ListLeftPushAsync(Order, entry.Id);
        if (!await transaction.ExecuteAsync())
        {
            throw new RedisException("the quarantine write was not committed");
        }

        var max = options.Value.MaxEntries;
        if (await database.ListLengthAsync(Order) > max)
        {
            var trimmed = await database.ListRangeAsync(Order, max, -1);
            await database.ListTrimAsync(Order, 0, max - 1);
            await database.HashDeleteAsync(Entries, trimmed);
        }
    }

    public async Task<IReadOnlyList<QuarantineEntry>> ListAsync(int limit, CancellationToken cancellationToken = default)
    {
        var database = redis.GetDatabase();
        var ids = await database.ListRangeAsync(Order, 0, limit - 1);
        if (ids.Length == 0)
        {
            return [];
        }

        var values = await database.HashGetAsync(Entries, ids);
        return values.Where(value => value.HasValue).Select(value => Deserialize(value!)).ToList();
    }

    public async Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var value = await redis.GetDatabase().HashGetAsync(Entries, id);
        return value.HasValue ? Deserialize(value!) : null;
    }

    public async Task MarkReplayedAsync(string id, DateTimeOffset at, string outcome, CancellationToken cancellationToken = default)
    {
        if (await GetAsync(id, cancellationToken) is { } entry)
        {
            await redis.GetDatabase().HashSetAsync(Entries, id, Serialize(entry with { ReplayedAt = at, ReplayOutcome = outcome }));
        }
    }

    public long? Count()
    {
        try
        {
            return redis.GetDatabase().HashLength(Entries);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return null;
        }
    }

    private static string Serialize(QuarantineEntry entry) => JsonSerializer.Serialize(entry, PulseCartJsonContext.Default.QuarantineEntry);

    private static QuarantineEntry Deserialize(string json) => JsonSerializer.Deserialize(json, PulseCartJsonContext.Default.QuarantineEntry)!;
}
