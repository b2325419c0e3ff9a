using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Consumer.Emulators;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.PubSub.Tests;

/// <summary>Where the twins listen: their own ports next to the consumer's, and any path prefix, the root included.</summary>
public sealed class OwnPortTests
{
    [Fact]
    public async Task ConsumerStartsAndServesTheTwinsRestPortWhenItsGrpcPortIsAlreadyTaken()
    {
        // As on a laptop already running Google's emulator on 8085.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var consumer = new EmbeddedConsumer(new Dictionary<string, string?> { ["PulseCart:Emulators:PubSub:GrpcPort"] = takenPort });
        using var client = consumer.CreateClient();

        using var live = await client.GetAsync("/health/live");
        using var twin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{consumer.Setting("PulseCart:Emulators:PubSub:RestPort")}") };
        var topics = await twin.GetFromJsonAsync<JsonElement>($"/v1/projects/{EmbeddedPubSub.LocalProject}/topics");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Contains(EmbeddedPubSub.Topic, topics.GetProperty("topics").EnumerateArray().Select(topic => topic.GetProperty("name").GetString()));
        using var unknown = await twin.GetAsync("/nothing/here");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var error = await GoogleErrors.ReadAsync(unknown);
        Assert.Equal((404, "NOT_FOUND"), (error.Code, error.Status));
    }

    [Fact]
    public async Task TheTwinsPortsStopCleanlyWhenTwoCallersStopThemAtOnce()
    {
        // A test host built on a Program with top-level statements is stopped both by the factory and by the program
        // itself (dotnet/aspnetcore#40271): the twins' listeners must take both.
        await using var consumer = new EmbeddedConsumer();
        using var client = consumer.CreateClient();
        var rest = int.Parse(consumer.Setting("PulseCart:Emulators:PubSub:RestPort")!, System.Globalization.CultureInfo.InvariantCulture);
        var listeners = consumer.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>()
            .OfType<PulseCart.Emulators.Hosting.EmulatorListenerHost>().Single();

        await Task.WhenAll(listeners.StopAsync(CancellationToken.None), listeners.StopAsync(CancellationToken.None));

        using var socket = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, rest));
    }

    [Fact]
    public async Task EmptyPathPrefixServesTheRestApiAtTheRoot()
    {
        await using var host = await PubSubHost.StartAsync(new Dictionary<string, string?> { ["PulseCart:Emulators:PubSub:PathPrefix"] = "" });

        using var created = await host.Http.PutAsync($"/v1/{PubSubHost.TopicName("rooted")}", new StringContent("{}"));
        var listed = await host.Http.GetFromJsonAsync<JsonElement>($"/v1/projects/{PubSubHost.Project}/topics");

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(PubSubHost.TopicName("rooted"), listed.GetProperty("topics")[0].GetProperty("name").GetString());
    }
}
