using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Oidc;
using StackExchange.Redis;

namespace PulseCart.Emulators.CloudTasks;

public static class CloudTasksEmulatorRegistration
{
    /// <summary>
    /// The embedded Cloud Tasks emulator with tasks in memory, configured from <c>PulseCart:Emulators:CloudTasks</c>.
    /// Map its API with <see cref="CloudTasksEmulatorEndpoints.MapCloudTasksEmulator"/>. Its clock is the registered
    /// <see cref="TimeProvider"/> (the system clock unless the host registered another first).
    /// </summary>
    public static IServiceCollection AddCloudTasksEmulator(this IServiceCollection services) =>
        services.AddCloudTasksEmulator(_ => new InMemoryCloudTaskStore());

    /// <summary>
    /// The embedded Cloud Tasks emulator with tasks and reserved names in Redis (keys <c>pulsecart:cloudtasks:*</c>), so
    /// they survive a restart. One emulator per Redis: two hosts sharing it would both dispatch every task.
    /// </summary>
    public static IServiceCollection AddCloudTasksEmulator(this IServiceCollection services, Func<IServiceProvider, IConnectionMultiplexer> redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return services.AddCloudTasksEmulator(provider => new RedisCloudTaskStore(redis(provider)));
    }

    private static IServiceCollection AddCloudTasksEmulator(this IServiceCollection services, Func<IServiceProvider, ICloudTaskStore> store)
    {
        if (services.Any(descriptor => descriptor.ServiceType == typeof(CloudTasksEmulator)))
        {
            throw new InvalidOperationException("The Cloud Tasks emulator is already registered; a second dispatcher would send every task twice.");
        }

        services.AddOptions<CloudTasksEmulatorOptions>()
            .BindConfiguration(CloudTasksEmulatorOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddLocalOidcIssuer();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(CloudTasksEmulator.HttpClientName, client =>
        {
            // The task's dispatchDeadline, on the emulator's clock, is the only timeout.
            client.Timeout = Timeout.InfiniteTimeSpan;
        })
        .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

        services.TryAddSingleton<ICloudTaskStore>(store);
        services.TryAddSingleton(provider => new CloudTasksEmulator(
            provider.GetRequiredService<IOptions<CloudTasksEmulatorOptions>>(),
            provider.GetRequiredService<ICloudTaskStore>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            provider.GetRequiredService<ILogger<CloudTasksEmulator>>()));
        services.AddHostedService(provider => new CloudTasksDispatcher(
            provider.GetRequiredService<CloudTasksEmulator>(),
            provider.GetRequiredService<ICloudTaskStore>(),
            provider.GetRequiredService<IHttpClientFactory>(),
            provider.GetRequiredService<LocalOidcIssuer>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<CloudTasksDispatcher>>()));
        return services;
    }
}
