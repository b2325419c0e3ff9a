using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using PulseCart.Google.Credentials;
using PulseCart.Grains.Reminders;

namespace PulseCart.Google.CloudTasks;

public static class CloudTasksRegistration
{
    // However long Retry-After or the backoff asks for, one wait is at most this (TotalTimeout usually ends it sooner).
    private static readonly TimeSpan MaxClientRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Makes <see cref="CloudTasksQueue"/> the <see cref="ITaskQueue"/> (replacing any earlier one), configured from
    /// <c>PulseCart:CloudTasks</c> and validated at startup. Calls to googleapis.com carry Application Default Credentials;
    /// calls to any other host (a twin) carry none. Register an <see cref="IAccessTokenSource"/> first to override that.
    /// Each call is retried with jittered exponential backoff on 429, 408, 5xx and no answer (honouring Retry-After), each
    /// attempt bounded by <c>RequestTimeout</c> and the whole call by <c>TotalTimeout</c>.
    /// </summary>
    public static IServiceCollection AddCloudTasksQueue(this IServiceCollection services)
    {
        services.AddOptions<CloudTasksOptions>()
            .BindConfiguration(CloudTasksOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAccessTokenSource>(provider =>
            AccessTokenSources.For(provider.GetRequiredService<IOptions<CloudTasksOptions>>().Value.BaseUrl));

        // The pipeline's timeouts are the only ones: HttpClient's own would cut a call short without telling why.
        services.AddHttpClient(CloudTasksQueue.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("cloud-tasks", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<CloudTasksOptions>>().Value;
                var logger = context.ServiceProvider.GetRequiredService<ILogger<CloudTasksQueue>>();
                pipeline.AddTimeout(options.TotalTimeout);
                if (options.MaxClientAttempts > 1)
                {
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxClientAttempts - 1,
                        BackoffType = DelayBackoffType.Exponential,

                        // Jitter keeps many grains that failed together from retrying in lockstep.
                        UseJitter = true,
                        Delay = options.ClientRetryBaseDelay,
                        MaxDelay = MaxClientRetryDelay,
                        ShouldRetryAfterHeader = true,
                        OnRetry = retry =>
                        {
                            var call = retry.Context.Properties.GetValue(CloudTasksQueue.CallKey, null!);
                            call?.Retrying();
                            logger.LogWarning(
                                "Cloud Tasks {Operation} on queue {Queue} failed ({Failure}); attempt {Attempt} of {MaxAttempts}, retrying in {Delay}",
                                call?.Description, call?.Queue,
                                retry.Outcome.Exception?.Message ?? $"HTTP {(int?)retry.Outcome.Result?.StatusCode}",
                                retry.AttemptNumber + 1, options.MaxClientAttempts, retry.RetryDelay);
                            return default;
                        },
                    });
                }

                pipeline.AddTimeout(options.RequestTimeout);
            });

        // A singleton over IHttpClientFactory rather than a typed client: grains hold the queue for their whole
        // activation, and the factory still rotates handlers underneath.
        services.TryAddSingleton<CloudTasksQueue>();
        services.RemoveAll<ITaskQueue>();
        services.AddSingleton<ITaskQueue>(provider => provider.GetRequiredService<CloudTasksQueue>());
        return services;
    }
}
