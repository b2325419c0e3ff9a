using System.Text.Json;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using StackExchange.Redis;

namespace PulseCart.Consumer.Quarantine;

/// <summary>A Redis list shared by every silo of the cluster: LPUSH keeps the newest first.</summary>
public sealed class RedisQuarantine(IConnectionMultiplexer redis, IOptions<QuarantineOptions> options) : IQuarantine
{
    public static readonly RedisKey Key = "pulsecart:quarantine";

    public async Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default)
    {
        var json = JsonSerializer.Serialize(entry, PulseCartJsonContext.Default.QuarantineEntry);
        var database = redis.GetDatabase();
        var transaction = database.CreateTransaction();
        _ = transaction.ListLeftPushAsync(Key, json);
        _ = transaction.ListTrimAsync(Key, 0, options.Value.MaxEntries - 1);
        if (!await transaction.ExecuteAsync())
        {
            throw new RedisException("the quarantine write was not committed");
        }
    }

    public async Task<IReadOnlyList<QuarantineEntry>> ListAsync(int limit, CancellationToken cancellationToken = default)
    {
        var values = await redis.GetDatabase().ListRangeAsync(Key, 0, limit - 1);
        return values
            .Select(value => JsonSerializer.Deserialize((string)value!, PulseCartJsonContext.Default.QuarantineEntry)!)
            .ToList();
    }
}
