using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Api;
using PulseCart.Emulators.CloudTasks;
using PulseCart.Emulators.Oidc;
using PulseCart.Emulators.PubSub;

namespace PulseCart.Emulators.Hosting;

/// <summary>Where the twins' own ports listen (<c>PulseCart:Emulators</c>).</summary>
public sealed class EmulatorListenerOptions
{
    public const string Section = "PulseCart:Emulators";

    /// <summary>The address every twin port binds to: loopback by default; <c>0.0.0.0</c> in a container.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";
}

/// <summary>
/// Serves each registered twin where Google's own emulators are found: on ports of its own, at the root path, gRPC
/// (HTTP/2 without TLS, which Kestrel serves only on an HTTP/2-only endpoint) on one and REST (HTTP/1.1) on another.
/// </summary>
public static class EmulatorListeners
{
    /// <summary>
    /// Starts a listener for each twin port that is not 0. With <paramref name="portsRequired"/> a port that is taken
    /// stops the host; without it (a consumer on a laptop, where Google's emulator may already hold 8085) the port is
    /// skipped with a warning and the rest starts.
    /// </summary>
    public static IServiceCollection AddEmulatorListeners(this IServiceCollection services, bool portsRequired)
    {
        if (services.Any(descriptor => descriptor.ServiceType == typeof(EmulatorListenerHost)))
        {
            return services;
        }

        services.AddOptions<EmulatorListenerOptions>().BindConfiguration(EmulatorListenerOptions.Section)
            .Validate(options => IPAddress.TryParse(options.ListenAddress, out _), $"{EmulatorListenerOptions.Section}:ListenAddress must be an IP address.")
            .ValidateOnStart();
        services.AddSingleton(provider => new EmulatorListenerHost(provider, portsRequired));
        services.AddHostedService(provider => provider.GetRequiredService<EmulatorListenerHost>());
        return services;
    }

    internal static string? PathPrefixProblem(string? prefix) =>
        prefix is null || (prefix.Length > 0 && (!prefix.StartsWith('/') || prefix.EndsWith('/') || prefix.Any(char.IsWhiteSpace)))
            ? "must be empty (the root) or start with '/' and not end with one."
            : null;
}

/// <summary>One Kestrel app per twin port, sharing the host's emulator instances, so one port taken costs only that port.</summary>
internal sealed class EmulatorListenerHost(IServiceProvider services, bool portsRequired) : IHostedService
{
    private const int MaxGrpcMessageBytes = 16 * 1024 * 1024;

    // The host may stop while a listener is still starting, and more than one caller may stop it: the list is only
    // touched under the lock, every caller awaits the one stop, and a listener that finishes starting after the stop
    // began is stopped at once.
    private readonly Lock _gate = new();
    private readonly List<WebApplication> _apps = [];
    private Task? _stop;
    private readonly ILogger _logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("PulseCart.Emulators.Listeners");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var address = IPAddress.Parse(services.GetRequiredService<IOptions<EmulatorListenerOptions>>().Value.ListenAddress);
        foreach (var listener in Listeners())
        {
            if (listener.Port == 0)
            {
                continue;
            }

            var app = Build(listener, address);
            try
            {
                await app.StartAsync(cancellationToken);
                bool kept;
                lock (_gate)
                {
                    kept = _stop is null;
                    if (kept)
                    {
                        _apps.Add(app);
                    }
                }

                if (!kept)
                {
                    await StopAndDisposeAsync(app, CancellationToken.None);
                    return;
                }

                _logger.LogInformation("{Twin} twin: {Protocol} on {Address}:{Port}", listener.Twin, listener.Grpc ? "gRPC" : "REST", address, listener.Port);
            }
            catch (IOException exception) when (!portsRequired)
            {
                await app.DisposeAsync();
                _logger.LogWarning(
                    "{Twin} twin: {Protocol} port {Port} is taken ({Reason}); not listening there. Set {Setting} to another port, or 0 for none",
                    listener.Twin, listener.Grpc ? "gRPC" : "REST", listener.Port, exception.Message, listener.Setting);
            }
            catch (IOException exception)
            {
                await app.DisposeAsync();
                await StopAsync(cancellationToken);
                throw new InvalidOperationException(
                    $"{listener.Twin} twin: {(listener.Grpc ? "gRPC" : "REST")} port {listener.Port} is taken ({exception.Message}). Set {listener.Setting} to another port, or 0 for none.",
                    exception);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _stop ??= StopAllAsync([.. _apps], cancellationToken);
        }
    }

    private static async Task StopAllAsync(WebApplication[] apps, CancellationToken cancellationToken)
    {
        foreach (var app in apps)
        {
            await StopAndDisposeAsync(app, cancellationToken);
        }
    }

    private static async Task StopAndDisposeAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await app.StopAsync(cancellationToken);
        await app.DisposeAsync();
    }

    private IEnumerable<Listener> Listeners()
    {
        if (services.GetService<CloudTasksEmulator>() is not null)
        {
            var options = services.GetRequiredService<IOptions<CloudTasksEmulatorOptions>>().Value;
            yield return new Listener("Cloud Tasks", options.GrpcPort, Grpc: true, $"{CloudTasksEmulatorOptions.Section}:GrpcPort", app => app.MapGrpcService<CloudTasksGrpcService>());
            yield return new Listener("Cloud Tasks", options.RestPort, Grpc: false, $"{CloudTasksEmulatorOptions.Section}:RestPort", app => app.MapCloudTasksEmulator(""));
        }

        if (services.GetService<PubSubEmulator>() is not null)
        {
            var options = services.GetRequiredService<IOptions<PubSubEmulatorOptions>>().Value;
            yield return new Listener("Pub/Sub", options.GrpcPort, Grpc: true, $"{PubSubEmulatorOptions.Section}:GrpcPort", app =>
            {
                app.MapGrpcService<PublisherGrpcService>();
                app.MapGrpcService<SubscriberGrpcService>();
            });
            yield return new Listener("Pub/Sub", options.RestPort, Grpc: false, $"{PubSubEmulatorOptions.Section}:RestPort", app => app.MapPubSubEmulator(""));
        }
    }

    private WebApplication Build(Listener listener, IPAddress address)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = MaxGrpcMessageBytes;
            kestrel.Listen(address, listener.Port, endpoint => endpoint.Protocols = listener.Grpc ? HttpProtocols.Http2 : HttpProtocols.Http1);
        });
        // The host's logging, less each little app's start-up lines (the host logs one line per port instead), and the
        // host's lifetime: Ctrl+C stops the host, which stops these.
        builder.Services.AddSingleton<ILoggerFactory>(new ListenerLoggerFactory(services.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddLogging();
        builder.Services.AddSingleton<IHostLifetime, HostOwnedLifetime>();
        builder.Services.AddRouting();
        ShareSingleton<TimeProvider>(builder.Services);
        ShareSingleton<LocalOidcIssuer>(builder.Services);
        ShareSingleton<CloudTasksEmulator>(builder.Services);
        ShareSingleton<PubSubEmulator>(builder.Services);
        ShareSingleton<IOptions<CloudTasksEmulatorOptions>>(builder.Services);
        ShareSingleton<IOptions<PubSubEmulatorOptions>>(builder.Services);
        if (listener.Grpc)
        {
            builder.Services.AddGrpc(grpc =>
            {
                grpc.Interceptors.Add<ApiExceptionInterceptor>();
                grpc.MaxReceiveMessageSize = MaxGrpcMessageBytes;
            });
        }

        var app = builder.Build();
        listener.Map(app);
        if (!listener.Grpc)
        {
            app.MapFallback(context => RestApi.NotFoundAsync(context, listener.Twin));
        }

        return app;
    }

    private void ShareSingleton<T>(IServiceCollection target)
        where T : class
    {
        if (services.GetService<T>() is { } instance)
        {
            target.AddSingleton(instance);
        }
    }

    private sealed record Listener(string Twin, int Port, bool Grpc, string Setting, Action<WebApplication> Map);

    private sealed class ListenerLoggerFactory(ILoggerFactory host) : ILoggerFactory
    {
        // Each little app's start-up lines, and its host's error when a port is taken, which the host reports once as a
        // warning (or a start failure) naming the setting.
        public ILogger CreateLogger(string categoryName) =>
            categoryName.StartsWith("Microsoft.Hosting.", StringComparison.Ordinal) || categoryName.StartsWith("Microsoft.Extensions.Hosting.", StringComparison.Ordinal)
                ? NullLogger.Instance
                : host.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => host.AddProvider(provider);

        public void Dispose()
        {
            // The host owns its logger factory.
        }
    }

    private sealed class HostOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
