using PulseCart.Testing;

namespace PulseCart.Cluster.Tests;

/// <summary>
/// A real redis-server on a free port and one three-silo cluster on it, shared by the collection. Tests that take a
/// silo down start a cluster of their own on the same Redis (each cluster keys its membership and state apart).
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public RedisBackedCluster Shared { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Shared = await RedisBackedCluster.StartAsync(Redis.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Shared.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
