using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PulseCart.Emulators.CloudTasks;
using PulseCart.Emulators.Hosting;
using PulseCart.Emulators.Oidc;
using PulseCart.Emulators.PubSub;
using PulseCart.Testing;

namespace PulseCart.OfficialClients.Tests.Support;

/// <summary>One request the recording listener received.</summary>
public sealed record Recorded(string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Both twins wired as the standalone host wires them (their own gRPC and REST ports, free ones here), plus a listener on
/// the host's port that records every request to <c>/record/…</c> and answers 200: a task handler or push endpoint.
/// </summary>
public sealed class Twins : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Recorded> _recorded = new();

    private Twins(WebApplication app, IReadOnlyDictionary<string, int> ports)
    {
        _app = app;
        Ports = ports;
    }

    public IReadOnlyDictionary<string, int> Ports { get; }

    public int TasksGrpcPort => Ports["CloudTasks:GrpcPort"];

    public int TasksRestPort => Ports["CloudTasks:RestPort"];

    public int PubSubGrpcPort => Ports["PubSub:GrpcPort"];

    public int PubSubRestPort => Ports["PubSub:RestPort"];

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<Recorded> Recorded => [.. _recorded];

    public LocalOidcIssuer Issuer => _app.Services.GetRequiredService<LocalOidcIssuer>();

    /// <summary>Starts the twins on free ports, or on those <paramref name="chosenPorts"/> names (<c>PubSub:GrpcPort</c> and so on).</summary>
    public static async Task<Twins> StartAsync(IReadOnlyDictionary<string, int>? chosenPorts = null)
    {
        var ports = new[] { "CloudTasks:GrpcPort", "CloudTasks:RestPort", "PubSub:GrpcPort", "PubSub:RestPort" }
            .ToDictionary(key => key, key => chosenPorts?.GetValueOrDefault(key) is > 0 and var port ? port : FreePorts.Next());
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(ports.ToDictionary(
            port => $"PulseCart:Emulators:{port.Key}", port => (string?)port.Value.ToString(CultureInfo.InvariantCulture)));
        builder.Services.AddCloudTasksEmulator();
        builder.Services.AddPubSubEmulator();
        builder.Services.AddEmulatorListeners(portsRequired: true);
        var app = builder.Build();
        var twins = new Twins(app, ports);
        app.Map("/record/{**path}", twins.RecordAsync);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        twins.BaseUrl = app.Urls.Single();
        return twins;
    }

    /// <summary>Waits up to <paramref name="seconds"/> of real time for a recorded request that matches.</summary>
    public async Task<Recorded> WaitForAsync(Func<Recorded, bool> match, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (_recorded.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No matching request within {seconds} s; recorded: {string.Join(", ", _recorded.Select(request => request.Path))}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task RecordAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _recorded.Enqueue(new Recorded(context.Request.Path, headers, body));
        context.Response.StatusCode = StatusCodes.Status200OK;
    }
}
