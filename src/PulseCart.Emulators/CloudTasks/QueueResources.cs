using Google.Protobuf.WellKnownTypes;
using PulseCart.Emulators.Api;
using PulseCart.GoogleApis.CloudTasks.V2;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>Between the Cloud Tasks <see cref="Queue"/> resource and the emulator's queue settings, with Google's defaults for unset fields.</summary>
internal static class QueueResources
{
    public static EmulatedQueue Settings(Queue resource)
    {
        if (resource.AppEngineRoutingOverride is not null)
        {
            throw ApiException.InvalidArgument("The twin runs HTTP tasks only: leave queue.app_engine_routing_override unset.");
        }

        var defaults = new EmulatedQueue();
        var retry = resource.RetryConfig;
        var rates = resource.RateLimits;
        var queue = new EmulatedQueue
        {
            Name = resource.Name,

            // Zero means "unset" in proto3, and Cloud Tasks then picks its default.
            RetryConfig = new QueueRetryConfig
            {
                MaxAttempts = retry is null || retry.MaxAttempts == 0 ? defaults.RetryConfig.MaxAttempts : retry.MaxAttempts,
                MaxRetryDuration = retry?.MaxRetryDuration?.ToTimeSpan() ?? defaults.RetryConfig.MaxRetryDuration,
                MinBackoff = retry?.MinBackoff?.ToTimeSpan() ?? defaults.RetryConfig.MinBackoff,
                MaxBackoff = retry?.MaxBackoff?.ToTimeSpan() ?? defaults.RetryConfig.MaxBackoff,
                MaxDoublings = retry is null || retry.MaxDoublings == 0 ? defaults.RetryConfig.MaxDoublings : retry.MaxDoublings,
            },
            RateLimits = new QueueRateLimits
            {
                MaxDispatchesPerSecond = rates is null || rates.MaxDispatchesPerSecond == 0 ? defaults.RateLimits.MaxDispatchesPerSecond : rates.MaxDispatchesPerSecond,
                MaxConcurrentDispatches = rates is null || rates.MaxConcurrentDispatches == 0 ? defaults.RateLimits.MaxConcurrentDispatches : rates.MaxConcurrentDispatches,
            },
            LoggingSamplingRatio = resource.StackdriverLoggingConfig?.SamplingRatio,
        };
        if (queue.Problems().FirstOrDefault() is { } problem)
        {
            throw ApiException.InvalidArgument($"Invalid queue: {problem}");
        }

        return queue;
    }

    public static Queue Resource(QueueRuntime runtime)
    {
        var settings = runtime.Settings;
        var retry = settings.Queue.RetryConfig;
        var resource = new Queue
        {
            Name = runtime.Name,
            State = runtime.Paused ? Queue.Types.State.Paused : Queue.Types.State.Running,
            RateLimits = new RateLimits
            {
                MaxDispatchesPerSecond = settings.Queue.RateLimits.MaxDispatchesPerSecond,
                MaxBurstSize = settings.Limiter.Burst,
                MaxConcurrentDispatches = settings.Queue.RateLimits.MaxConcurrentDispatches,
            },
            RetryConfig = new RetryConfig
            {
                MaxAttempts = retry.MaxAttempts,
                MinBackoff = Duration.FromTimeSpan(retry.MinBackoff),
                MaxBackoff = Duration.FromTimeSpan(retry.MaxBackoff),
                MaxDoublings = retry.MaxDoublings,
            },
        };
        if (retry.MaxRetryDuration > TimeSpan.Zero)
        {
            resource.RetryConfig.MaxRetryDuration = Duration.FromTimeSpan(retry.MaxRetryDuration);
        }

        if (settings.Queue.LoggingSamplingRatio is { } ratio)
        {
            resource.StackdriverLoggingConfig = new StackdriverLoggingConfig { SamplingRatio = ratio };
        }

        if (runtime.PurgeTime is { } purged)
        {
            resource.PurgeTime = Timestamp.FromDateTimeOffset(purged);
        }

        return resource;
    }
}
