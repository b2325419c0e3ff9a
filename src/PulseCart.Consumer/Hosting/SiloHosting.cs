using PulseCart.Grains.Persistence;
using StackExchange.Redis;

namespace PulseCart.Consumer.Hosting;

public static class SiloHosting
{
    /// <summary>
    /// The co-hosted Orleans silo: localhost clustering, and grain storage in memory or, with
    /// <c>PulseCart:Redis</c>, in Redis.
    /// </summary>
    public static WebApplicationBuilder AddPulseCartSilo(this WebApplicationBuilder builder, ConfigurationOptions? redis)
    {
        var silo = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        ValidatePort(silo.SiloPort, $"{SiloOptions.Section}:SiloPort");
        ValidatePort(silo.GatewayPort, $"{SiloOptions.Section}:GatewayPort");
        builder.UseOrleans(orleans =>
        {
            orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort);
            if (redis is null)
            {
                orleans.AddMemoryGrainStorage(GrainStorage.Name);
            }
            else
            {
                orleans.AddRedisGrainStorage(GrainStorage.Name, options => options.ConfigurationOptions = redis.Clone());
            }
        });
        return builder;
    }

    private static void ValidatePort(int port, string setting)
    {
        if (port is < 1 or > 65535)
        {
            throw new InvalidOperationException($"{setting} must be a TCP port number between 1 and 65535, not {port}.");
        }
    }
}
