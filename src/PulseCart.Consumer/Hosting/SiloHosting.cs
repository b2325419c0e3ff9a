using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Serialization;
using PulseCart.Consumer.Telemetry;
using PulseCart.Grains.Persistence;
using StackExchange.Redis;

namespace PulseCart.Consumer.Hosting;

public static class SiloHosting
{
    private const string PodIpVariable = "POD_IP";

    /// <summary>
    /// The co-hosted Orleans silo. <c>PulseCart:Cluster:Mode</c> picks how it finds the rest of its cluster:
    /// <c>localhost</c> (a cluster of one), <c>redis</c> (membership in <c>PulseCart:Redis</c>, each silo advertising
    /// <c>PulseCart:Cluster:AdvertisedIp</c>) or <c>kubernetes</c> (membership in Redis, identity from the pod).
    /// Grain storage is in memory or, with <c>PulseCart:Redis</c>, in Redis.
    /// </summary>
    public static WebApplicationBuilder AddPulseCartSilo(this WebApplicationBuilder builder, ConfigurationOptions? redis)
    {
        var cluster = SiloOptions.Read(builder.Configuration);
        if (cluster.Mode != ClusterMode.Localhost && redis is null)
        {
            // Silos of one cluster must share membership and grain state; without Redis each would be a cluster of
            // one holding its own copy of every cart, and duplicates would no longer meet in one grain.
            throw new InvalidOperationException(
                $"{SiloOptions.Section}:Mode is {cluster.Mode.ToString().ToLowerInvariant()}, which keeps cluster membership " +
                $"and grain state in Redis, but {PulseCartHosting.RedisSetting} is not set. Set {PulseCartHosting.RedisSetting}, " +
                $"or set {SiloOptions.Section}:Mode to localhost for a single silo.");
        }

        if (redis is not null)
        {
            // One connection for the process: grain state shares the one the consumer opened, if it did.
            builder.Services.TryAddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis.Clone()));
        }

        builder.Services.AddOptions<SiloOptions>()
            .BindConfiguration(SiloOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.UseOrleans(orleans =>
        {
            if (TelemetryHosting.ExportsTraces(builder.Configuration))
            {
                // Grain calls join the trace of the push or callback that made them.
                orleans.AddActivityPropagation();
            }

            switch (cluster.Mode)
            {
                case ClusterMode.Localhost:
                    // The same service id as the cluster modes, so state in Redis is found whichever mode a deployment runs in.
                    orleans.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primarySiloEndpoint: null, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);

                    // The directory cache remembers where other silos' grains live; a cluster of one has none. Orleans'
                    // cache still takes every activation in and out, and its size gauge counts it entry by entry each
                    // time it is read (by the dashboard, by a /metrics scrape).
                    orleans.Configure<GrainDirectoryOptions>(options => options.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.None);
                    break;
                case ClusterMode.Redis:
                    orleans.Configure<ClusterOptions>(options =>
                    {
                        options.ClusterId = cluster.ClusterId;
                        options.ServiceId = cluster.ServiceId;
                    });
                    orleans.ConfigureEndpoints(IPAddress.Parse(cluster.AdvertisedIp), cluster.SiloPort, cluster.GatewayPort);
                    orleans.UseRedisClustering(options => options.ConfigurationOptions = redis!.Clone());
                    break;
                case ClusterMode.Kubernetes:
                    // Registered before UseKubernetesHosting so that ORLEANS_SERVICE_ID and ORLEANS_CLUSTER_ID, which it
                    // applies afterwards, win; these are only the fallback when the pod does not set them.
                    orleans.Configure<ClusterOptions>(options =>
                    {
                        options.ClusterId = cluster.ClusterId;
                        options.ServiceId = cluster.ServiceId;
                    });
                    var podIp = PodIp(builder.Configuration);
                    orleans.Configure<EndpointOptions>(options =>
                    {
                        options.SiloPort = cluster.SiloPort;
                        options.GatewayPort = cluster.GatewayPort;

                        // Kubernetes hosting would advertise POD_IP only if nothing chose an address before it, but
                        // the Orleans runtime's own default (the first address of the host) is applied first.
                        if (podIp is not null)
                        {
                            options.AdvertisedIPAddress = podIp;
                        }
                    });

                    // Names the silo after POD_NAME, listens on all addresses, and marks silos dead as soon as their
                    // pods are deleted instead of waiting for missed probes.
                    orleans.UseKubernetesHosting();
                    orleans.UseRedisClustering(options => options.ConfigurationOptions = redis!.Clone());
                    break;
            }

            // Age alone does not bound memory: a burst of new carts activates faster than three minutes retire them
            // (240 s of unique events held 1.7M activations, 8 GiB). Under pressure the silo sheds the idlest first.
            if (cluster.ShedActivationsAbovePercent > 0)
            {
                orleans.Configure<GrainCollectionOptions>(options =>
                {
                    options.EnableActivationSheddingOnMemoryPressure = true;
                    options.MemoryUsageLimitPercentage = cluster.ShedActivationsAbovePercent;
                    options.MemoryUsageTargetPercentage = Math.Max(1, cluster.ShedActivationsAbovePercent - 10);
                });
            }

            // A failure in a grain on another silo comes back with its type, so that a Redis or Cloud Tasks outage there
            // is still answered 503, not quarantined as unknown. Orleans carries Microsoft, System and Azure ones only.
            orleans.Configure<ExceptionSerializationOptions>(options =>
            {
                options.SupportedNamespacePrefixes.Add("StackExchange.Redis");
                options.SupportedNamespacePrefixes.Add("PulseCart");
            });

            // Orleans' working set visits every activation every 5 s; the silo needs only the news it passes on.
            orleans.Services.Replace(ServiceDescriptor.Singleton<IActivationWorkingSet, UnscannedWorkingSet>());

            // Carts and orders in Redis when it is configured (the connection the quarantine uses too), else in this process.
            orleans.AddPulseCartGrainStorage(services => redis is null
                ? new MemoryStateStore()
                : new RedisStateStore(services.GetRequiredService<IConnectionMultiplexer>()));
        });
        return builder;
    }

    /// <summary>The pod's address from the downward API (deploy/gke/deployment.yaml), or null to let Orleans pick one.</summary>
    private static IPAddress? PodIp(IConfiguration configuration)
    {
        var value = configuration[PodIpVariable];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return IPAddress.TryParse(value, out var address)
            ? address
            : throw new InvalidOperationException($"{PodIpVariable} must be the pod's IP address (fieldRef status.podIP), not '{value}'.");
    }
}
