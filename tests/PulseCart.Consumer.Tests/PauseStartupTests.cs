using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Consumer.Pause;

namespace PulseCart.Consumer.Tests;

/// <summary>An instance that starts while the switch is on applies its parts again; a resume meanwhile still wins.</summary>
public sealed class PauseStartupTests
{
    [Fact]
    public async Task AnInstanceStartingWhileAnotherResumesLeavesDeliveriesFlowing()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var endpoint = (await client.SubscriptionAsync()).GetProperty("pushConfig").GetProperty("pushEndpoint").GetString();
        using var paused = await client.PostAsync("/ops/pause", null);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);

        // A second instance starts: it reads the switch on, then the operator's resume on the first instance finishes
        // before the second has looked at the subscription and the queue, which it finds flowing.
        var store = new ResumedAfterFirstRead(consumer.Services.GetRequiredService<IPauseStore>(), async () =>
        {
            using var resumed = await client.PostAsync("/ops/resume", null);
            Assert.False((await resumed.JsonAsync()).GetProperty("paused").GetBoolean());
        });
        var starting = ActivatorUtilities.CreateInstance<PauseSwitch>(consumer.Services, store);
        await starting.ReconcileAsync();

        Assert.Equal(endpoint, (await client.SubscriptionAsync()).GetProperty("pushConfig").GetProperty("pushEndpoint").GetString());
        Assert.Equal("RUNNING", await client.QueueStateAsync());
        Assert.False((await client.GetJsonAsync("/ops/pause")).GetProperty("paused").GetBoolean());
    }

    /// <summary>The shared store, with something done elsewhere right after the first read.</summary>
    private sealed class ResumedAfterFirstRead(IPauseStore inner, Func<Task> meanwhile) : IPauseStore
    {
        private int _reads;

        public async Task<PauseState?> GetAsync(CancellationToken cancellationToken = default)
        {
            var state = await inner.GetAsync(cancellationToken);
            if (Interlocked.Increment(ref _reads) == 1)
            {
                await meanwhile();
            }

            return state;
        }

        public Task<PauseState> StartAsync(PauseState state, CancellationToken cancellationToken = default) => inner.StartAsync(state, cancellationToken);

        public Task SaveAsync(PauseState state, CancellationToken cancellationToken = default) => inner.SaveAsync(state, cancellationToken);

        public Task<string> KeepPushConfigAsync(string pushConfig, CancellationToken cancellationToken = default) =>
            inner.KeepPushConfigAsync(pushConfig, cancellationToken);

        public Task ClearAsync(CancellationToken cancellationToken = default) => inner.ClearAsync(cancellationToken);
    }
}
