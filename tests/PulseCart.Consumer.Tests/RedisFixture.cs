using System.Text;
using PulseCart.Consumer.Quarantine;
using StackExchange.Redis;
using PulseCart.Testing;

namespace PulseCart.Consumer.Tests;

/// <summary>A real redis-server for the collection, on a free port.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>
    /// Puts a quarantine entry into Redis as an earlier version (or a silo that stopped) left it: its metadata, and its
    /// body apart when there is one, counted in the quarantine's byte total as the add script counts it.
    /// </summary>
    public async Task PutQuarantineEntryAsync(string id, string metadata, string? body = null)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString);
        var database = connection.GetDatabase();
        await database.HashSetAsync(RedisQuarantine.Entries, id, metadata);
        if (body is not null)
        {
            await database.HashSetAsync(RedisQuarantine.Bodies, id, body);
            await database.StringIncrementAsync(RedisQuarantine.TotalBytes, Encoding.UTF8.GetByteCount(body));
        }

        await database.ListLeftPushAsync(RedisQuarantine.Order, id);
    }
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
