using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PulseCart.Emulators.Oidc;

public static class LocalOidcRegistration
{
    /// <summary>The process-wide emulator token issuer, configured from <c>PulseCart:Emulators:Oidc</c>; every emulator adds it.</summary>
    public static IServiceCollection AddLocalOidcIssuer(this IServiceCollection services)
    {
        if (services.Any(descriptor => descriptor.ServiceType == typeof(LocalOidcIssuer)))
        {
            return services;
        }

        services.AddOptions<LocalOidcOptions>().BindConfiguration(LocalOidcOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LocalOidcIssuer>();
        return services;
    }
}
