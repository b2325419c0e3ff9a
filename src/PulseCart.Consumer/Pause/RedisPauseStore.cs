using System.Text.Json;
using PulseCart.Consumer.Json;
using StackExchange.Redis;

namespace PulseCart.Consumer.Pause;

/// <summary>
/// Shared by every silo and kept across restarts: the switch as one JSON string, and the push config to restore in a
/// key of its own that is only ever set when absent, so no later write can replace it.
/// </summary>
public sealed class RedisPauseStore(IConnectionMultiplexer redis) : IPauseStore
{
    public static readonly RedisKey Key = "pulsecart:pause";
    public static readonly RedisKey PushConfigKey = "pulsecart:pause:push-config";

    public async Task<PauseState?> GetAsync(CancellationToken cancellationToken = default)
    {
        var values = await redis.GetDatabase().StringGetAsync([Key, PushConfigKey]);
        return values[0].HasValue ? Read(values[0]) with { SavedPushConfig = values[1].HasValue ? (string)values[1]! : null } : null;
    }

    public async Task<PauseState> StartAsync(PauseState state, CancellationToken cancellationToken = default)
    {
        await redis.GetDatabase().StringSetAsync(Key, Write(state), when: When.NotExists);
        return await GetAsync(cancellationToken) ?? state;
    }

    public Task SaveAsync(PauseState state, CancellationToken cancellationToken = default) =>
        redis.GetDatabase().StringSetAsync(Key, Write(state with { SavedPushConfig = null }));

    public async Task<string> KeepPushConfigAsync(string pushConfig, CancellationToken cancellationToken = default)
    {
        var database = redis.GetDatabase();
        await database.StringSetAsync(PushConfigKey, pushConfig, when: When.NotExists);
        return (string?)await database.StringGetAsync(PushConfigKey) ?? pushConfig;
    }

    public Task ClearAsync(CancellationToken cancellationToken = default) =>
        redis.GetDatabase().KeyDeleteAsync([Key, PushConfigKey]);

    private static string Write(PauseState state) => JsonSerializer.Serialize(state, PulseCartJsonContext.Default.PauseState);

    private static PauseState Read(RedisValue value) => JsonSerializer.Deserialize((string)value!, PulseCartJsonContext.Default.PauseState)!;
}
