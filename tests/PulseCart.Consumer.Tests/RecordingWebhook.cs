using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// A messaging service on loopback that records what it accepted. Users named <c>fail{n}-…</c> are refused
/// n times, <c>failall-…</c> always: scripted outages per recipient.
/// </summary>
public sealed class RecordingWebhook : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _refusals = new();

    private RecordingWebhook(WebApplication app)
    {
        _app = app;
    }

    public ConcurrentQueue<JsonElement> Accepted { get; } = new();

    public string Url { get; private set; } = "";

    public static async Task<RecordingWebhook> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var webhook = new RecordingWebhook(builder.Build());
        webhook._app.MapPost("/messages", async (HttpRequest request) =>
        {
            var message = (await JsonDocument.ParseAsync(request.Body)).RootElement.Clone();
            var user = message.GetProperty("user_id").GetString()!;
            if (webhook.Refuses(user))
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }

            webhook.Accepted.Enqueue(message);
            return Results.Accepted();
        });
        await webhook._app.StartAsync();
        webhook.Url = webhook._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/messages";
        return webhook;
    }

    public IReadOnlyList<JsonElement> AcceptedWithKey(string key) =>
        Accepted.Where(message => message.GetProperty("idempotency_key").GetString() == key).ToList();

    public IReadOnlyList<JsonElement> AcceptedFor(string user) =>
        Accepted.Where(message => message.GetProperty("user_id").GetString() == user).ToList();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private bool Refuses(string user)
    {
        if (user.StartsWith("failall-", StringComparison.Ordinal))
        {
            return true;
        }

        if (user.StartsWith("fail", StringComparison.Ordinal) && int.TryParse(user[4..user.IndexOf('-')], out var times))
        {
            return _refusals.AddOrUpdate(user, 1, (_, count) => count + 1) <= times;
        }

        return false;
    }
}
