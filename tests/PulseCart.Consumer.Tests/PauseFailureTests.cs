using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Consumer.Emulators;
using PulseCart.Consumer.Pause;

namespace PulseCart.Consumer.Tests;

/// <summary>A pause that stops part-way, after the push endpoint is detached: resume still gives everything back.</summary>
public sealed class PauseFailureTests
{
    [Fact]
    public async Task APauseThatFailsAfterDetachingIsAuditedAndUndoneByResume()
    {
        var store = new FailingOnceStore(new InMemoryPauseStore());
        await using var consumer = new ConsumerFactory(services: services => services.AddSingleton<IPauseStore>(store));
        var client = consumer.CreateClient();
        var endpoint = (await client.SubscriptionAsync()).GetProperty("pushConfig").GetProperty("pushEndpoint").GetString();

        // The switch's store fails just after the endpoint is detached, before the pause is recorded.
        store.FailNextSave = true;
        using var paused = await client.PostAsync("/ops/pause", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, paused.StatusCode);
        Assert.Contains("TimeoutException", await paused.Content.ReadAsStringAsync());
        Assert.False((await client.SubscriptionAsync()).GetProperty("pushConfig").TryGetProperty("pushEndpoint", out _));
        var audited = Assert.Single(await client.AuditAsync(), entry => entry.GetProperty("action").GetString() == "pause");
        Assert.Contains("failed part-way", audited.GetProperty("outcome").GetString());

        using var resumed = await client.PostAsync("/ops/resume", null);

        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.False((await resumed.JsonAsync()).GetProperty("paused").GetBoolean());
        Assert.Equal(endpoint, (await client.SubscriptionAsync()).GetProperty("pushConfig").GetProperty("pushEndpoint").GetString());
        Assert.Equal("RUNNING", await client.QueueStateAsync());
    }

    [Fact]
    public async Task RemindersStayPausedWhilePushesCannotBeRestored()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        using var paused = await client.PostAsync("/ops/pause", null);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Equal("PAUSED", await client.QueueStateAsync());

        // The subscription is gone while paused, so its push config cannot be put back: purchases stay held, and a
        // reminder released now could go out before the purchase that makes it moot.
        using var deleted = await client.DeleteAsync($"/emulators/pubsub/v1/{EmbeddedPubSub.Subscription}");
        deleted.EnsureSuccessStatusCode();
        using var resumed = await client.PostAsync("/ops/resume", null);

        var answer = await resumed.JsonAsync();
        Assert.True(answer.GetProperty("paused").GetBoolean());
        Assert.Equal("PAUSED", await client.QueueStateAsync());
        Assert.Contains(answer.GetProperty("done").EnumerateArray(), line => line.GetString()!.StartsWith("pushes still held", StringComparison.Ordinal));
        Assert.Contains(answer.GetProperty("done").EnumerateArray(), line => line.GetString()!.Contains("paused until pushes are back", StringComparison.Ordinal));
    }

    private sealed class FailingOnceStore(IPauseStore inner) : IPauseStore
    {
        public bool FailNextSave { get; set; }

        public Task<PauseState?> GetAsync(CancellationToken cancellationToken = default) => inner.GetAsync(cancellationToken);

        public Task<PauseState> StartAsync(PauseState state, CancellationToken cancellationToken = default) => inner.StartAsync(state, cancellationToken);

        public Task SaveAsync(PauseState state, CancellationToken cancellationToken = default)
        {
            if (FailNextSave)
            {
                FailNextSave = false;
                throw new TimeoutException("the pause store did not answer");
            }

            return inner.SaveAsync(state, cancellationToken);
        }

        public Task<string> KeepPushConfigAsync(string pushConfig, CancellationToken cancellationToken = default) =>
            inner.KeepPushConfigAsync(pushConfig, cancellationToken);

        public Task ClearAsync(CancellationToken cancellationToken = default) => inner.ClearAsync(cancellationToken);
    }
}
