using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Oidc;

namespace PulseCart.Emulators.PubSub;

/// <summary>Registers the embedded Pub/Sub emulator and its push dispatcher.</summary>
public static class PubSubEmulatorRegistration
{
    /// <summary>
    /// The embedded Pub/Sub emulator, in memory, configured from <c>PulseCart:Emulators:PubSub</c>. Map its API with
    /// <see cref="PubSubEmulatorEndpoints.MapPubSubEmulator"/>. Pushes are signed by the same <see cref="LocalOidcIssuer"/>
    /// as the Cloud Tasks emulator's callbacks. Its clock is the registered <see cref="TimeProvider"/> (the system clock
    /// unless the host registered another first).
    /// </summary>
    public static IServiceCollection AddPubSubEmulator(this IServiceCollection services)
    {
        if (services.Any(descriptor => descriptor.ServiceType == typeof(PubSubEmulator)))
        {
            throw new InvalidOperationException("The Pub/Sub emulator is already registered; a second dispatcher would push every message twice.");
        }

        services.AddOptions<PubSubEmulatorOptions>()
            .BindConfiguration(PubSubEmulatorOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddLocalOidcIssuer();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(PubSubEmulator.HttpClientName, client =>
        {
            // Each subscription's ack deadline, on the emulator's clock, is the only timeout.
            client.Timeout = Timeout.InfiniteTimeSpan;
        })
        .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,

            // Attributes are any UTF-8 text; a noWrapper push with metadata sends them as headers, in UTF-8.
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        })

        // Four information lines per push would bury the consumer's own log; the emulator records each push itself.
        .RemoveAllLoggers();

        services.TryAddSingleton(provider => new PubSubEmulator(
            provider.GetRequiredService<IOptions<PubSubEmulatorOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            provider.GetRequiredService<ILogger<PubSubEmulator>>()));
        services.AddHostedService(provider => new PubSubPushDispatcher(
            provider.GetRequiredService<PubSubEmulator>(),
            provider.GetRequiredService<IHttpClientFactory>(),
            provider.GetRequiredService<LocalOidcIssuer>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<PubSubPushDispatcher>>()));
        return services;
    }
}
