using System.Text.Json;
using StackExchange.Redis;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>
/// Tasks in Redis, so they and the reserved names survive a restart of the host: a hash of task JSON by name, a sorted
/// set per queue scored by schedule time, and a sorted set of reserved names scored by when the reservation ends.
/// Scores are Unix milliseconds on the emulator's clock, rounded up so a task is never due early.
/// </summary>
internal sealed class RedisCloudTaskStore(IConnectionMultiplexer redis) : ICloudTaskStore
{
    public const string KeyPrefix = "pulsecart:cloudtasks:";

    private static readonly RedisKey TasksKey = KeyPrefix + "tasks";
    private static readonly RedisKey ReservedKey = KeyPrefix + "reserved";

    // KEYS: tasks, schedule, reserved. ARGV: name, json, schedule score, now.
    private const string AddScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
        if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        return 1
        """;

    // KEYS: tasks, schedule, reserved. ARGV: name, reserved-until score.
    private const string RemoveScript = """
        if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('ZREM', KEYS[2], ARGV[1])
        redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
        return 1
        """;

    // KEYS: tasks, schedule. ARGV: name, json, schedule score.
    private const string UpdateScript = """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        return 1
        """;

    private IDatabase Database => redis.GetDatabase();

    public async ValueTask<bool> TryAddAsync(EmulatedTask task, DateTimeOffset now)
    {
        var added = await Database.ScriptEvaluateAsync(
            AddScript,
            [TasksKey, ScheduleKey(task.Queue), ReservedKey],
            [task.Name, Serialize(task), ScoreOf(task.ScheduleTime), FloorScore(now)]).ConfigureAwait(false);
        return (int)added == 1;
    }

    public async ValueTask<EmulatedTask?> GetAsync(string name)
    {
        var json = await Database.HashGetAsync(TasksKey, name).ConfigureAwait(false);
        return Deserialize(json);
    }

    public async ValueTask<IReadOnlyList<EmulatedTask>> ListAsync(string queue)
    {
        var names = await Database.SortedSetRangeByRankAsync(ScheduleKey(queue)).ConfigureAwait(false);
        if (names.Length == 0)
        {
            return [];
        }

        var values = await Database.HashGetAsync(TasksKey, names).ConfigureAwait(false);
        return [.. values.Select(Deserialize).OfType<EmulatedTask>()];
    }

    public async ValueTask<bool> RemoveAsync(string name, DateTimeOffset now, DateTimeOffset reservedUntil)
    {
        var removed = await Database.ScriptEvaluateAsync(
            RemoveScript,
            [TasksKey, ScheduleKey(TaskNames.QueueOf(name)), ReservedKey],
            [name, ScoreOf(reservedUntil)]).ConfigureAwait(false);
        return (int)removed == 1;
    }

    public async ValueTask<bool> UpdateAsync(EmulatedTask task)
    {
        var updated = await Database.ScriptEvaluateAsync(
            UpdateScript,
            [TasksKey, ScheduleKey(task.Queue)],
            [task.Name, Serialize(task), ScoreOf(task.ScheduleTime)]).ConfigureAwait(false);
        return (int)updated == 1;
    }

    public async ValueTask PurgeAsync(string queue, DateTimeOffset now, DateTimeOffset reservedUntil)
    {
        var names = await Database.SortedSetRangeByRankAsync(ScheduleKey(queue)).ConfigureAwait(false);
        foreach (var name in names)
        {
            await RemoveAsync(name!, now, reservedUntil).ConfigureAwait(false);
        }
    }

    public async ValueTask<IReadOnlyList<string>> DueAsync(string queue, DateTimeOffset now, int limit)
    {
        var names = await Database.SortedSetRangeByScoreAsync(
            ScheduleKey(queue), double.NegativeInfinity, FloorScore(now), Exclude.None, Order.Ascending, 0, limit).ConfigureAwait(false);
        return [.. names.Select(name => (string)name!)];
    }

    public async ValueTask<DateTimeOffset?> NextDueAfterAsync(string queue, DateTimeOffset now)
    {
        var next = await Database.SortedSetRangeByScoreWithScoresAsync(
            ScheduleKey(queue), FloorScore(now), double.PositiveInfinity, Exclude.Start, Order.Ascending, 0, 1).ConfigureAwait(false);
        return next.Length == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)next[0].Score);
    }

    private static RedisKey ScheduleKey(string queue) => $"{KeyPrefix}schedule:{queue}";

    private static double ScoreOf(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return ticks / TimeSpan.TicksPerMillisecond + (ticks % TimeSpan.TicksPerMillisecond == 0 ? 0 : 1);
    }

    private static double FloorScore(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMillisecond;

    private static string Serialize(EmulatedTask task) => JsonSerializer.Serialize(task, EmulatedTaskJsonContext.Default.EmulatedTask);

    private static EmulatedTask? Deserialize(RedisValue json) =>
        json.IsNullOrEmpty ? null : JsonSerializer.Deserialize((string)json!, EmulatedTaskJsonContext.Default.EmulatedTask);
}
