using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using PulseCart.OfficialClients.Tests.Support;

namespace PulseCart.OfficialClients.Tests;

/// <summary>The twins on their own, as <c>dotnet run --project src/PulseCart.Emulators.Host</c> runs them.</summary>
public sealed class StandaloneTests
{
    [Fact]
    public async Task RestPortsServeTheApisAtTheRootAndAnswerUnknownPathsWithGooglesError()
    {
        await using var twins = await Twins.StartAsync();
        using var tasks = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{twins.TasksRestPort}") };
        using var pubSub = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{twins.PubSubRestPort}") };

        var queues = await tasks.GetFromJsonAsync<JsonElement>("/v2/projects/pulsecart-local/locations/local/queues");
        using var topic = await pubSub.PutAsync("/v1/projects/pulsecart-local/topics/standalone", new StringContent(""));
        using var unknown = await tasks.PostAsync("/v1/projects/pulsecart-local/topics/standalone", new StringContent("{}"));

        Assert.Equal("projects/pulsecart-local/locations/local/queues/pulsecart-cart-reminders", queues.GetProperty("queues")[0].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, topic.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var error = (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(("NOT_FOUND", 404), (error.GetProperty("status").GetString(), error.GetProperty("code").GetInt32()));
    }

    [Fact]
    public async Task ATakenPortStopsTheStandaloneTwinsWithAMessageNamingTheSetting()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(
            () => Twins.StartAsync(new Dictionary<string, int> { ["PubSub:GrpcPort"] = ((IPEndPoint)taken.LocalEndpoint).Port }));

        Assert.Contains("PulseCart:Emulators:PubSub:GrpcPort", failure.Message);
    }
}
