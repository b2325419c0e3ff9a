using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.TestingHost;
using PulseCart.Consumer.Routing;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;
using PulseCart.Grains.Reminders;
using StackExchange.Redis;

namespace PulseCart.Cluster.Tests;

/// <summary>
/// An in-process cluster of silos that keep grain state in Redis, as the consumer does with <c>PulseCart:Redis</c>.
/// Membership is the test cluster's own: <see cref="InProcessTestCluster"/> 10.4.2 keeps its switch to other
/// membership internal (<see cref="RedisModeSiloTests"/> covers Redis membership with the consumer's own silo set-up).
/// Each silo has its own recording message sink and task queue feeding one shared ledger, so the ledgers show which
/// silo did what.
/// </summary>
public sealed class RedisBackedCluster : IAsyncDisposable
{
    private readonly IConnectionMultiplexer _redis;

    private RedisBackedCluster(InProcessTestCluster cluster, IConnectionMultiplexer redis, MessageLedger messages, TaskLedger tasks)
    {
        Cluster = cluster;
        _redis = redis;
        Messages = messages;
        Tasks = tasks;
    }

    public InProcessTestCluster Cluster { get; }

    public MessageLedger Messages { get; }

    public TaskLedger Tasks { get; }

    public IManagementGrain Management => Cluster.Client.GetGrain<IManagementGrain>(0);

    public static async Task<RedisBackedCluster> StartAsync(string redisConnectionString, short silos = 3)
    {
        // Connected and answering before any silo starts: a connection a silo opened at its first activation could still
        // be mid-handshake when the test's first events arrive, and CI saw that fail the first state read.
        var redis = await ConnectionMultiplexer.ConnectAsync(redisConnectionString);
        await redis.GetDatabase().PingAsync();
        var messages = new MessageLedger();
        var tasks = new TaskLedger();
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddPulseCartGrainStorage(_ => new RedisStateStore(redis));
            silo.Configure<ClusterMembershipOptions>(membership =>
            {
                // A killed silo is declared dead within a few seconds instead of the production ~30 s, so a test that
                // kills one stays short; the mechanism (probes, votes) is the production one.
                membership.ProbeTimeout = TimeSpan.FromSeconds(1);
                membership.NumMissedProbesLimit = 2;
                membership.TableRefreshTimeout = TimeSpan.FromSeconds(2);
            });
            silo.Configure<SiloMessagingOptions>(messaging => messaging.ResponseTimeout = TimeSpan.FromSeconds(10));
            silo.Services.TryAddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<IMessageSender>(new SiloMessageSender(options.SiloName, messages));
            silo.Services.AddSingleton<ITaskQueue>(new SiloTaskQueue(options.SiloName, tasks));
        });
        builder.ConfigureClient(client =>
            client.Configure<ClientMessagingOptions>(messaging => messaging.ResponseTimeout = TimeSpan.FromSeconds(10)));

        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new RedisBackedCluster(cluster, redis, messages, tasks);
    }

    /// <summary>
    /// Every way into the cluster, as the consumer has them: each live silo's own grain factory (what a co-hosted
    /// consumer's endpoints call) and an external client.
    /// </summary>
    public IReadOnlyList<Route> Routes() =>
    [
        .. Cluster.GetActiveSilos().Select(silo => new Route(silo.Name, silo.ServiceProvider.GetRequiredService<IGrainFactory>())),
        new Route("client", Cluster.Client),
    ];

    public async Task<SiloAddress?> HostOfAsync(IAddressable grain) => await Management.GetActivationAddress(grain);

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await _redis.DisposeAsync();
    }
}

/// <summary>One way into the cluster, routing events the way the consumer's push endpoint does.</summary>
public sealed record Route(string Name, IGrainFactory Grains)
{
    public EventRouter Router { get; } = new(Grains);
}
