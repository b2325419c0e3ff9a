using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using PulseCart.Consumer.Hosting;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Reminders;
using PulseCart.Testing;
using StackExchange.Redis;

namespace PulseCart.Cluster.Tests;

/// <summary>
/// Silos set up exactly as the consumer sets up its own (<see cref="SiloHosting.AddPulseCartSilo"/> in <c>redis</c>
/// mode): Redis membership, Redis grain state, real TCP between silos on loopback. Only the message sink and task
/// queue are recording fakes, and failure detection is quicker than production's.
/// </summary>
public sealed class ConsumerSilos : IAsyncDisposable
{
    private readonly List<(string Name, WebApplication App)> _silos = [];
    private readonly string _redis;

    private ConsumerSilos(string redis)
    {
        _redis = redis;
    }

    public string ClusterId { get; } = "c-" + Guid.NewGuid().ToString("N")[..8];

    public string ServiceId { get; } = "s-" + Guid.NewGuid().ToString("N")[..8];

    public MessageLedger Messages { get; } = new();

    public TaskLedger Tasks { get; } = new();

    public IReadOnlyList<Route> Routes => _silos.Select(silo => new Route(silo.Name, silo.App.Services.GetRequiredService<IGrainFactory>())).ToList();

    public IReadOnlyList<string> Names => _silos.Select(silo => silo.Name).ToList();

    public IManagementGrain Management => Routes[0].Grains.GetGrain<IManagementGrain>(0);

    public static async Task<ConsumerSilos> StartAsync(string redisConnectionString, int count)
    {
        var silos = new ConsumerSilos(redisConnectionString);
        for (var i = 0; i < count; i++)
        {
            await silos.StartSiloAsync($"silo-{i}");
        }

        return silos;
    }

    public SiloAddress AddressOf(string name) =>
        Silo(name).Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    public string NameOf(SiloAddress address) => Names.Single(name => AddressOf(name).Equals(address));

    /// <summary>Stops a silo as a crash would: no grain deactivation, no goodbye to the membership table.</summary>
    public async Task KillAsync(string name)
    {
        var app = Silo(name);
        _silos.RemoveAll(silo => silo.Name == name);
        await app.StopAsync(new CancellationToken(canceled: true));
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, app) in _silos)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private WebApplication Silo(string name) => _silos.Single(silo => silo.Name == name).App;

    private async Task StartSiloAsync(string name)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PulseCart:Cluster:Mode"] = "redis",
            ["PulseCart:Cluster:ClusterId"] = ClusterId,
            ["PulseCart:Cluster:ServiceId"] = ServiceId,
            ["PulseCart:Cluster:SiloPort"] = FreePorts.Next().ToString(),
            ["PulseCart:Cluster:GatewayPort"] = FreePorts.Next().ToString(),
        });
        builder.AddPulseCartSilo(ConfigurationOptions.Parse(_redis));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IMessageSender>(new SiloMessageSender(name, Messages));
        builder.Services.AddSingleton<ITaskQueue>(new SiloTaskQueue(name, Tasks));
        builder.Services.Configure<ClusterMembershipOptions>(membership =>
        {
            membership.ProbeTimeout = TimeSpan.FromSeconds(1);
            membership.NumMissedProbesLimit = 2;
            membership.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        });
        builder.Services.Configure<SiloMessagingOptions>(messaging => messaging.ResponseTimeout = TimeSpan.FromSeconds(10));

        var app = builder.Build();
        await app.StartAsync();
        _silos.Add((name, app));
    }
}
