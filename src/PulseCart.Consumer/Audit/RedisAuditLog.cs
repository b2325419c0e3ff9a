using System.Text.Json;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using StackExchange.Redis;

namespace PulseCart.Consumer.Audit;

/// <summary>Shared by every silo: one Redis list of JSON entries, newest first, trimmed to the bound on every add.</summary>
public sealed class RedisAuditLog(IConnectionMultiplexer redis, IOptions<AuditOptions> options) : IAuditLog
{
    public static readonly RedisKey Key = "pulsecart:audit";

    public async Task AddAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.ListLeftPushAsync(Key, JsonSerializer.Serialize(entry, PulseCartJsonContext.Default.AuditEntry));
        _ = transaction.ListTrimAsync(Key, 0, options.Value.MaxEntries - 1);
        if (!await transaction.ExecuteAsync())
        {
            throw new RedisException("the audit entry was not kept");
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        var items = await redis.GetDatabase().ListRangeAsync(Key, offset, offset + limit - 1);
        return items.Where(item => item.HasValue)
            .Select(item => JsonSerializer.Deserialize((string)item!, PulseCartJsonContext.Default.AuditEntry)!)
            .ToList();
    }
}
