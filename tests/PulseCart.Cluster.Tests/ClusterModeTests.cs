using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using PulseCart.Consumer.Hosting;
using StackExchange.Redis;
using OrleansSiloOptions = Orleans.Configuration.SiloOptions;

namespace PulseCart.Cluster.Tests;

/// <summary>What <c>PulseCart:Cluster:Mode</c> makes of the co-hosted silo, read back from the built host.</summary>
public sealed class ClusterModeTests
{
    private static readonly ConfigurationOptions SomeRedis = ConfigurationOptions.Parse("127.0.0.1:1,abortConnect=false");

    [Theory]
    [InlineData("redis")]
    [InlineData("kubernetes")]
    public async Task ClusteredModeWithoutRedisStopsTheAppNamingBothSettings(string mode)
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseSetting("PulseCart:Cluster:Mode", mode);
        });

        var failure = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(failure);
        var message = Flatten(failure);
        Assert.Contains("PulseCart:Cluster:Mode", message);
        Assert.Contains("PulseCart:Redis", message);
    }

    [Theory]
    [InlineData("PulseCart:Cluster:Mode", "carrier-pigeon", "PulseCart:Cluster:Mode")]
    [InlineData("PulseCart:Cluster:AdvertisedIp", "0.0.0.0", "PulseCart:Cluster:AdvertisedIp")]
    [InlineData("PulseCart:Cluster:AdvertisedIp", "silo-1.internal", "PulseCart:Cluster:AdvertisedIp")]
    [InlineData("PulseCart:Cluster:ClusterId", "two words", "PulseCart:Cluster:ClusterId")]
    [InlineData("PulseCart:Cluster:ServiceId", "", "PulseCart:Cluster:ServiceId")]
    [InlineData("PulseCart:Cluster:GatewayPort", "11111", "PulseCart:Cluster:GatewayPort")]
    [InlineData("PulseCart:Cluster:SiloPort", "0", "PulseCart:Cluster:SiloPort")]
    public void InvalidClusterSettingStopsTheAppNamingIt(string key, string value, string named)
    {
        var builder = Builder(new() { ["PulseCart:Cluster:Mode"] = "redis", [key] = value });

        var failure = Assert.Throws<InvalidOperationException>(() => builder.AddPulseCartSilo(SomeRedis));

        Assert.Contains(named, Flatten(failure));
    }

    [Fact]
    public async Task LocalhostModeIsTheDefaultWithTheConfiguredPorts()
    {
        var builder = Builder(new() { ["PulseCart:Cluster:SiloPort"] = "21111", ["PulseCart:Cluster:GatewayPort"] = "23000" });

        await using var app = builder.AddPulseCartSilo(SomeRedis).Build();

        var endpoints = app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        Assert.Equal(IPAddress.Loopback, endpoints.AdvertisedIPAddress);
        Assert.Equal(21111, endpoints.SiloPort);
        Assert.Equal(23000, endpoints.GatewayPort);
        Assert.DoesNotContain("Redis", MembershipTableType(app));
    }

    [Fact]
    public async Task RedisModeAdvertisesTheConfiguredAddressAndKeepsMembershipInRedis()
    {
        var builder = Builder(new()
        {
            ["PulseCart:Cluster:Mode"] = "redis",
            ["PulseCart:Cluster:ClusterId"] = "blue",
            ["PulseCart:Cluster:ServiceId"] = "pulsecart-test",
            ["PulseCart:Cluster:AdvertisedIp"] = "127.0.0.2",
            ["PulseCart:Cluster:SiloPort"] = "21111",
            ["PulseCart:Cluster:GatewayPort"] = "23000",
        });

        await using var app = builder.AddPulseCartSilo(SomeRedis).Build();

        var cluster = app.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        Assert.Equal("blue", cluster.ClusterId);
        Assert.Equal("pulsecart-test", cluster.ServiceId);
        var endpoints = app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        Assert.Equal(IPAddress.Parse("127.0.0.2"), endpoints.AdvertisedIPAddress);
        Assert.Equal(21111, endpoints.SiloPort);
        Assert.Equal(23000, endpoints.GatewayPort);
        Assert.Contains("Redis", MembershipTableType(app));
    }

    [Fact]
    public async Task RedisModeDefaultsToOneClusterNamedPulsecartOnLoopback()
    {
        var builder = Builder(new() { ["PulseCart:Cluster:Mode"] = "Redis" });

        await using var app = builder.AddPulseCartSilo(SomeRedis).Build();

        var cluster = app.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        Assert.Equal(("pulsecart", "pulsecart"), (cluster.ClusterId, cluster.ServiceId));
        Assert.Equal(IPAddress.Loopback, app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value.AdvertisedIPAddress);
    }

    [Fact]
    public async Task KubernetesModeTakesItsIdentityFromThePod()
    {
        // As deploy/gke/deployment.yaml sets them (an address from the documentation range: nothing is dialled).
        var pod = new Dictionary<string, string>
        {
            ["POD_NAME"] = "pulsecart-consumer-7d9f-x2k4q",
            ["POD_NAMESPACE"] = "pulsecart",
            ["POD_IP"] = "192.0.2.17",
            ["ORLEANS_SERVICE_ID"] = "pulsecart-from-pod",
            ["ORLEANS_CLUSTER_ID"] = "cluster-from-pod",
        };
        foreach (var (name, value) in pod)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        try
        {
            var builder = Builder(new()
            {
                ["PulseCart:Cluster:Mode"] = "kubernetes",
                ["PulseCart:Cluster:SiloPort"] = "11111",
                ["PulseCart:Cluster:GatewayPort"] = "30000",
            });

            await using var app = builder.AddPulseCartSilo(SomeRedis).Build();

            var cluster = app.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
            Assert.Equal("pulsecart-from-pod", cluster.ServiceId);
            Assert.Equal("cluster-from-pod", cluster.ClusterId);
            Assert.Equal("pulsecart-consumer-7d9f-x2k4q", app.Services.GetRequiredService<IOptions<OrleansSiloOptions>>().Value.SiloName);
            var endpoints = app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
            Assert.Equal(IPAddress.Parse("192.0.2.17"), endpoints.AdvertisedIPAddress);
            Assert.Equal(new IPEndPoint(IPAddress.Any, 11111), endpoints.SiloListeningEndpoint);
            Assert.Equal(new IPEndPoint(IPAddress.Any, 30000), endpoints.GatewayListeningEndpoint);
            Assert.Contains("Redis", MembershipTableType(app));
        }
        finally
        {
            foreach (var name in pod.Keys)
            {
                Environment.SetEnvironmentVariable(name, null);
            }
        }
    }

    private static WebApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    private static string MembershipTableType(WebApplication app) =>
        app.Services.GetRequiredService<IMembershipTable>().GetType().Name;

    private static string Flatten(Exception exception) =>
        exception is AggregateException aggregate
            ? string.Join(" | ", aggregate.InnerExceptions.Select(Flatten))
            : exception.Message + (exception.InnerException is null ? "" : " | " + Flatten(exception.InnerException));
}
