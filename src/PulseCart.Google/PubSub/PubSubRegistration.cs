using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using PulseCart.Google.Credentials;

namespace PulseCart.Google.PubSub;

public static class PubSubRegistration
{
    /// <summary>
    /// <see cref="PushSubscription"/>, configured from <c>PulseCart:PubSub</c> and validated at startup. Calls to
    /// googleapis.com carry Application Default Credentials, calls to a twin none. Each call is retried with jittered
    /// backoff on 429, 408, 5xx and no answer (reading and <c>modifyPushConfig</c> are both safe to repeat).
    /// </summary>
    public static IServiceCollection AddPushSubscription(this IServiceCollection services)
    {
        services.AddOptions<PubSubOptions>()
            .BindConfiguration(PubSubOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddKeyedSingleton<IAccessTokenSource>(PushSubscription.HttpClientName, (provider, _) =>
            AccessTokenSources.For(provider.GetRequiredService<IOptions<PubSubOptions>>().Value.BaseUrl));
        services.AddHttpClient(PushSubscription.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("pubsub", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<PubSubOptions>>().Value;
                pipeline.AddTimeout(options.TotalTimeout);
                if (options.MaxClientAttempts > 1)
                {
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxClientAttempts - 1,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = TimeSpan.FromMilliseconds(500),
                        ShouldRetryAfterHeader = true,
                    });
                }

                pipeline.AddTimeout(options.RequestTimeout);
            });
        services.TryAddSingleton<PushSubscription>();
        return services;
    }
}
