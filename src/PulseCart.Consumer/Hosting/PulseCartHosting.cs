using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Emulators;
using PulseCart.Consumer.Events;
using PulseCart.Consumer.Health;
using PulseCart.Consumer.Json;
using PulseCart.Consumer.Messaging;
using PulseCart.Consumer.Ops;
using PulseCart.Consumer.PubSub;
using PulseCart.Consumer.Quarantine;
using PulseCart.Consumer.Reminders;
using PulseCart.Consumer.Routing;
using PulseCart.Consumer.Security;
using PulseCart.Consumer.Telemetry;
using PulseCart.Grains.Events;
using PulseCart.Grains.Persistence;
using PulseCart.Grains.Reminders;
using StackExchange.Redis;

namespace PulseCart.Consumer.Hosting;

public static class PulseCartHosting
{
    public const string RedisSetting = "PulseCart:Redis";
    public const string EmulatorsEnabledSetting = "PulseCart:Emulators:Enabled";

    /// <summary>
    /// Everything the consumer needs. With no configuration it runs embedded: in-memory grain storage,
    /// localhost clustering, messages to the log. <c>PulseCart:Redis</c> switches storage and the quarantine to Redis.
    /// </summary>
    public static WebApplicationBuilder AddPulseCart(this WebApplicationBuilder builder)
    {
        var selfUrl = ListenOnPort(builder);
        var redis = RedisConfiguration(builder.Configuration);

        builder.Services.ConfigureHttpJsonOptions(json => PulseCartJsonContext.Configure(json.SerializerOptions));
        builder.Services.TryAddSingleton(TimeProvider.System);
        AddValidatedOptions<PushOptions>(builder.Services, PushOptions.Section);
        AddValidatedOptions<DedupOptions>(builder.Services, DedupOptions.Section);
        AddValidatedOptions<RemindersOptions>(builder.Services, RemindersOptions.Section);
        AddValidatedOptions<QuarantineOptions>(builder.Services, QuarantineOptions.Section);
        AddValidatedOptions<EventTimeOptions>(builder.Services, EventTimeOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<EventTimeOptions>, EventTimeOptionsValidator>();
        builder.Services.AddPulseCartMessaging();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Slow senders must not hold connections open: headers within 10 s, bodies at a minimum data rate.
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
        });
        builder.AddPulseCartSecurity();

        builder.Services.AddSingleton<EventClock>();
        builder.Services.AddSingleton<EventRouter>();
        builder.Services.AddSingleton<RecentlyRouted>();
        builder.Services.AddSingleton<PushHandler>();
        builder.Services.AddSingleton<ReminderCallbackHandler>();
        builder.Services.AddSingleton<ConsumerMetrics>();
        builder.Services.AddSingleton<RecentActivity>();
        builder.Services.AddOperatorActions(redis is not null);

        var health = builder.Services.AddHealthChecks()
            .AddCheck<SiloReadyCheck>("silo", tags: [HealthEndpoints.ReadyTag]);
        if (redis is null)
        {
            builder.Services.AddSingleton<IQuarantine, InMemoryQuarantine>();
        }
        else
        {
            // AbortOnConnectFail=false: start while Redis is down and report not-ready until it answers.
            builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis.Clone()));
            builder.Services.AddSingleton<IQuarantine, RedisQuarantine>();
            health.AddCheck<RedisReadyCheck>("redis", tags: [HealthEndpoints.ReadyTag]);
        }

        var emulators = EmbeddedEmulatorsEnabled(builder);
        if (!emulators && EmbeddedCloudTasks.IsEmbedded(builder.Configuration))
        {
            // On Cloud Run or GKE an instance can be stopped at any time, and reminders scheduled into a process of its
            // own would be lost with it: production must name a real queue, or choose the emulators knowingly.
            throw new InvalidOperationException(
                "PulseCart:CloudTasks:ProjectId is not set, so reminders would be scheduled into the embedded Cloud Tasks emulator, " +
                $"which is off in {builder.Environment.EnvironmentName}. Set PulseCart:CloudTasks:ProjectId (with Location and " +
                $"CallbackBaseUrl) for a real queue, or set {EmulatorsEnabledSetting}=true to run the embedded emulators on purpose.");
        }

        EmbeddedCloudTasks.AddTaskQueue(builder, selfUrl, redis is not null);
        if (emulators)
        {
            EmbeddedPubSub.AddPubSub(builder, selfUrl);
        }

        builder.AddPulseCartSilo(redis);
        builder.Services.AddHostedService<IdleMemoryTrimmer>();
        builder.AddPulseCartDashboard();
        builder.AddPulseCartTelemetry();
        return builder;
    }

    /// <summary>The embedded Cloud Tasks and Pub/Sub twins: on by default everywhere but Production.</summary>
    private static bool EmbeddedEmulatorsEnabled(WebApplicationBuilder builder)
    {
        var setting = builder.Configuration[EmulatorsEnabledSetting];
        if (string.IsNullOrWhiteSpace(setting))
        {
            return !builder.Environment.IsProduction();
        }

        return bool.TryParse(setting, out var enabled)
            ? enabled
            : throw new InvalidOperationException($"{EmulatorsEnabledSetting} must be true or false, not '{setting}'.");
    }

    private static void AddValidatedOptions<TOptions>(IServiceCollection services, string section)
        where TOptions : class =>
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();

    private static ConfigurationOptions? RedisConfiguration(IConfiguration configuration)
    {
        var connectionString = configuration[RedisSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }

        try
        {
            var options = ConfigurationOptions.Parse(connectionString);
            if (options.EndPoints.Count == 0)
            {
                // "localhost:abc" parses, with no endpoint; connecting would fail later without naming the setting.
                throw new ArgumentException($"no host:port in '{connectionString}'");
            }

            options.AbortOnConnectFail = false;

            // Replies are read on the runtime's thread pool, which runs everything else here, instead of on ten threads
            // of StackExchange.Redis's own: half the context switches per event, and nothing here blocks pool threads
            // on Redis in volume (bench/README.md, "Redis replies on the thread pool").
            options.SocketManager = SocketManager.ThreadPool;
            return options;
        }
        catch (Exception exception) when (exception is ArgumentException or RedisConnectionException)
        {
            throw new InvalidOperationException($"{RedisSetting} is not a valid StackExchange.Redis connection string: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// Cloud Run and the container set <c>PORT</c>; a laptop run listens on localhost:8080 unless told otherwise.
    /// Returns the URL this process reaches itself at, for the embedded emulators' callbacks.
    /// </summary>
    private static string ListenOnPort(WebApplicationBuilder builder)
    {
        var port = builder.Configuration["PORT"];
        if (!string.IsNullOrEmpty(port))
        {
            if (!int.TryParse(port, out var number) || number is < 1 or > 65535)
            {
                throw new InvalidOperationException($"PORT must be a TCP port number between 1 and 65535, not '{port}'.");
            }

            builder.WebHost.UseUrls($"http://0.0.0.0:{number}");
            return $"http://127.0.0.1:{number}";
        }

        var urls = builder.Configuration["urls"];
        if (string.IsNullOrEmpty(urls))
        {
            builder.WebHost.UseUrls("http://localhost:8080");
            return "http://localhost:8080";
        }

        // A wildcard host is not an address to call: call ourselves on loopback instead.
        var first = new UriBuilder(urls.Split(';', StringSplitOptions.RemoveEmptyEntries)[0].Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"));
        if (first.Host is "0.0.0.0" or "[::]" or "::")
        {
            first.Host = "127.0.0.1";
        }

        return first.Uri.GetLeftPart(UriPartial.Authority);
    }
}
