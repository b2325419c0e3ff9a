using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PulseCart.Emulators.CloudTasks;
using StackExchange.Redis;

namespace PulseCart.CloudTasks.Tests.Support;

/// <summary>The Cloud Tasks emulator in a real Kestrel app on a free loopback port, on a fake clock.</summary>
public sealed class EmulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmulatorHost(WebApplication app, FakeTimeProvider clock)
    {
        _app = app;
        Clock = clock;
        BaseAddress = new Uri(app.Urls.Single());
        Http = new HttpClient { BaseAddress = BaseAddress };
    }

    public FakeTimeProvider Clock { get; }

    public Uri BaseAddress { get; }

    /// <summary>What a Cloud Tasks client uses as its API root.</summary>
    public Uri CloudTasksBaseUrl => new(BaseAddress, "/emulators/cloudtasks");

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public CloudTasksEmulator Emulator => _app.Services.GetRequiredService<CloudTasksEmulator>();

    public static async Task<EmulatorHost> StartAsync(
        FakeTimeProvider clock,
        IReadOnlyDictionary<string, string?>? settings = null,
        IConnectionMultiplexer? redis = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Services.AddSingleton<TimeProvider>(clock);
        services?.Invoke(builder.Services);
        if (redis is null)
        {
            builder.Services.AddCloudTasksEmulator();
        }
        else
        {
            builder.Services.AddCloudTasksEmulator(_ => redis);
        }

        var app = builder.Build();
        app.MapCloudTasksEmulator();
        await app.StartAsync();
        return new EmulatorHost(app, clock);
    }

    /// <summary>Waits (in real time, bounded) until the emulator has nothing to do before the clock moves again.</summary>
    public Task IdleAsync() => Emulator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(15));

    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await IdleAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
