using PulseCart.Emulators.CloudTasks;
using PulseCart.Emulators.Oidc;
using PulseCart.Google.CloudTasks;
using StackExchange.Redis;

namespace PulseCart.Consumer.Emulators;

/// <summary>
/// Reminders always go through the real <see cref="CloudTasksQueue"/> client. With no
/// <c>PulseCart:CloudTasks:ProjectId</c> it talks, over real HTTP, to a Cloud Tasks emulator this process serves
/// itself, which calls <c>/tasks/cart-reminder</c> back with a token its own OIDC issuer signs.
/// </summary>
public static class EmbeddedCloudTasks
{
    public const string LocalProject = "pulsecart-local";
    public const string LocalLocation = "local";
    public const string LocalServiceAccount = "pulsecart-tasks@pulsecart-local.iam.gserviceaccount.com";

    public static bool IsEmbedded(IConfiguration configuration) =>
        string.IsNullOrWhiteSpace(configuration[$"{CloudTasksOptions.Section}:ProjectId"]);

    public static void AddTaskQueue(WebApplicationBuilder builder, string selfUrl, bool redis)
    {
        if (IsEmbedded(builder.Configuration))
        {
            var queue = builder.Configuration[$"{CloudTasksOptions.Section}:Queue"] ?? new CloudTasksOptions().Queue;
            var maxAttempts = builder.Configuration["PulseCart:Reminders:MaxAttempts"] ?? "20";
            const string Emulated = $"{CloudTasksEmulatorOptions.Section}:Queues:0";

            // Defaults only: anything configured explicitly wins. The queue mirrors deploy/'s production queue.
            EmbeddedEmulator.SetDefaults(builder.Configuration, new Dictionary<string, string?>
            {
                [$"{CloudTasksOptions.Section}:BaseUrl"] = $"{selfUrl}/emulators/cloudtasks",
                [$"{CloudTasksOptions.Section}:ProjectId"] = LocalProject,
                [$"{CloudTasksOptions.Section}:Location"] = LocalLocation,
                [$"{CloudTasksOptions.Section}:CallbackBaseUrl"] = selfUrl,
                [$"{CloudTasksOptions.Section}:ServiceAccountEmail"] = LocalServiceAccount,
                ["PulseCart:Auth:JwksUri"] = $"{selfUrl}{LocalOidcIssuer.CertsPath}",
                ["PulseCart:Auth:TasksAudience"] = $"{selfUrl}/tasks/cart-reminder",
                [$"{Emulated}:Name"] = $"projects/{LocalProject}/locations/{LocalLocation}/queues/{queue}",
                [$"{Emulated}:RetryConfig:MaxAttempts"] = maxAttempts,
                [$"{Emulated}:RetryConfig:MinBackoff"] = "00:00:10",
                [$"{Emulated}:RetryConfig:MaxBackoff"] = "00:05:00",
                [$"{Emulated}:RetryConfig:MaxDoublings"] = "3",
                [$"{Emulated}:RateLimits:MaxDispatchesPerSecond"] = "50",
                [$"{Emulated}:RateLimits:MaxConcurrentDispatches"] = "20",
            });

            if (redis)
            {
                builder.Services.AddCloudTasksEmulator(provider => provider.GetRequiredService<IConnectionMultiplexer>());
            }
            else
            {
                builder.Services.AddCloudTasksEmulator();
            }

            EmbeddedEmulator.AddOwnPorts(builder.Services);
        }

        builder.Services.AddCloudTasksQueue();
    }

    /// <summary>
    /// Serves the emulator's API to this machine only (nobody else may make the consumer call out); its JWKS and
    /// discovery document, being public keys, to anyone.
    /// </summary>
    public static WebApplication MapEmbeddedCloudTasks(this WebApplication app)
    {
        if (app.Services.GetService<CloudTasksEmulator>() is null)
        {
            return app;
        }

        app.MapCloudTasksEmulator().AddEndpointFilter(EmbeddedEmulator.LoopbackOnly("Cloud Tasks"));
        return app;
    }
}
