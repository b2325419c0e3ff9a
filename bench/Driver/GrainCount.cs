using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PulseCart.Bench.Driver;

/// <summary>Asks the consumer's co-hosted silo, through its gateway, how many grain activations it holds, by type.</summary>
public static class GrainCount
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var gatewayPort = arguments.Number("gateway-port");
        using var host = new HostBuilder()
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort, serviceId: "pulsecart", clusterId: "pulsecart"))
            .Build();
        await host.StartAsync();

        var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
        var statistics = await management.GetSimpleGrainStatistics();
        var byType = new JsonObject();
        foreach (var group in statistics.GroupBy(s => s.GrainType).OrderByDescending(g => g.Sum(s => s.ActivationCount)))
        {
            byType[group.Key] = group.Sum(s => s.ActivationCount);
        }

        Console.WriteLine(new JsonObject
        {
            ["total"] = statistics.Sum(s => s.ActivationCount),
            ["by_type"] = byType,
        }.ToJsonString());
        await host.StopAsync();
        return 0;
    }
}
