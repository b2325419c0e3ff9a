using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PulseCart.Google.Credentials;
using PulseCart.Grains.Reminders;

namespace PulseCart.Google.CloudTasks;

public static class CloudTasksRegistration
{
    /// <summary>
    /// Makes <see cref="CloudTasksQueue"/> the <see cref="ITaskQueue"/> (replacing any earlier one), configured from
    /// <c>PulseCart:CloudTasks</c> and validated at startup. Calls to googleapis.com carry Application Default Credentials;
    /// calls to any other host (an emulator) carry none. Register an <see cref="IAccessTokenSource"/> first to override that.
    /// </summary>
    public static IServiceCollection AddCloudTasksQueue(this IServiceCollection services)
    {
        services.AddOptions<CloudTasksOptions>()
            .BindConfiguration(CloudTasksOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAccessTokenSource>(provider =>
            provider.GetRequiredService<IOptions<CloudTasksOptions>>().Value.UsesGoogleCredentials
                ? new GoogleAccessTokenSource()
                : new NoAccessTokenSource());
        services.AddHttpClient(CloudTasksQueue.HttpClientName)
            .ConfigureHttpClient((provider, client) =>
                client.Timeout = provider.GetRequiredService<IOptions<CloudTasksOptions>>().Value.RequestTimeout);

        // A singleton over IHttpClientFactory rather than a typed client: grains hold the queue for their whole
        // activation, and the factory still rotates handlers underneath.
        services.TryAddSingleton<CloudTasksQueue>();
        services.RemoveAll<ITaskQueue>();
        services.AddSingleton<ITaskQueue>(provider => provider.GetRequiredService<CloudTasksQueue>());
        return services;
    }
}
