using Microsoft.AspNetCore.Hosting;
using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace PulseCart.Consumer.Tests;

public sealed class WebhookSinkTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Key, int Status)> _received = new();
    private WebApplication _webhook = null!;
    private volatile int _answer = StatusCodes.Status503ServiceUnavailable;

    public async Task InitializeAsync()
    {
        // A real messaging service on loopback that is down until the test brings it back.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _webhook = builder.Build();
        _webhook.MapPost("/messages", (HttpRequest request) =>
        {
            var status = _answer;
            _received.Enqueue((request.Headers["Idempotency-Key"].ToString(), status));
            return Results.StatusCode(status);
        });
        await _webhook.StartAsync();
    }

    public async Task DisposeAsync() => await _webhook.DisposeAsync();

    [Fact]
    public async Task SinkOutageAnswers503AndTheRedeliverySendsExactlyOnce()
    {
        await using var consumer = ConsumerSendingToTheWebhook();
        var client = consumer.CreateClient();
        var order = Push.NewId("o");
        var placed = Push.OrderPlaced(Push.NewId("e"), order, "u-1");

        var duringOutage = await client.PushAsync(placed);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, duringOutage.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/ops/orders/{order}")).StatusCode);

        _answer = StatusCodes.Status202Accepted;
        var redelivered = await client.PushAsync(placed);
        var again = await client.PushAsync(placed);

        Assert.Equal(HttpStatusCode.NoContent, redelivered.StatusCode);
        Assert.Equal("duplicate", again.Outcome());
        var accepted = _received.Where(r => r.Status == StatusCodes.Status202Accepted).ToList();
        Assert.Equal([$"order_confirmation:{order}"], accepted.Select(r => r.Key));
    }

    [Fact]
    public async Task ASinkThatRefusesTheMessageGetsItQuarantinedNotRetried()
    {
        await using var consumer = ConsumerSendingToTheWebhook();
        var client = consumer.CreateClient();
        _answer = StatusCodes.Status422UnprocessableEntity;

        var refused = await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1"));

        Assert.Equal(HttpStatusCode.NoContent, refused.StatusCode);
        Assert.Equal("quarantined", refused.Outcome());
        Assert.Contains(await client.QuarantinedAsync(), entry => entry.GetProperty("reason").GetString()!.Contains("webhook answered 422"));
    }

    [Fact]
    public async Task AnIdOutsideAsciiIsSentWithItsKeyPercentEncoded()
    {
        await using var consumer = ConsumerSendingToTheWebhook();
        var client = consumer.CreateClient();
        _answer = StatusCodes.Status202Accepted;
        var unique = Guid.NewGuid().ToString("N");

        // HTTP header values are ASCII: sent as it is, this key failed before leaving, on every delivery (503s, forever).
        var placed = await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), $"o-ü%{unique}", "u-1"));

        Assert.Equal(HttpStatusCode.NoContent, placed.StatusCode);
        Assert.Equal("processed", placed.Outcome());
        Assert.Equal([$"order_confirmation:o-%C3%BC%25{unique}"], _received.Select(r => r.Key));
    }

    private ConsumerFactory ConsumerSendingToTheWebhook()
    {
        var url = _webhook.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new ConsumerFactory(new Dictionary<string, string?>
        {
            ["PulseCart:Messaging:Sink"] = "webhook",
            ["PulseCart:Messaging:WebhookUrl"] = $"{url}/messages",
        });
    }
}
