using System.Collections.Concurrent;
using System.Diagnostics;
using PulseCart.Abstractions.Events;

namespace PulseCart.Cluster.Tests;

/// <summary>
/// Delivers events the way a Pub/Sub push subscription does: a delivery that fails (here: the call throws, which the
/// push endpoint turns into a 5xx) is redelivered, possibly to another pod, until one is acknowledged.
/// </summary>
public sealed class Publisher(IReadOnlyList<Route> routes, TimeSpan patience)
{
    private readonly ConcurrentDictionary<string, int> _attempts = new();

    /// <summary>How many deliveries each event took before it was acknowledged.</summary>
    public IReadOnlyDictionary<string, int> Attempts => _attempts;

    public int Redelivered => _attempts.Values.Count(attempts => attempts > 1);

    /// <summary>What made deliveries fail: each would have been a 5xx to Pub/Sub.</summary>
    public ConcurrentQueue<Exception> Failures { get; } = new();

    public async Task<EventOutcome> DeliverAsync(IPulseCartEvent routed, int firstRoute)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            var route = routes[(firstRoute + attempt) % routes.Count];
            try
            {
                var outcome = await route.Router.RouteAsync(routed);
                _attempts.AddOrUpdate(routed.EventId, attempt + 1, (_, previous) => previous + attempt + 1);
                return outcome;
            }
            catch (Exception failure) when (clock.Elapsed < patience)
            {
                Failures.Enqueue(failure);
                // Pub/Sub backs off before redelivering; a short pause keeps the test quick.
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }
    }
}
