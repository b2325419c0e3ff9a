using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace PulseCart.Consumer.Tests;

/// <summary>Alone in the process: any host's /metrics scrape would read the probe instrument too.</summary>
[Collection(AloneInTheProcess.Name)]
public sealed class DashboardTests
{
    [Fact]
    public async Task TheDashboardReadsOrleansInstrumentsAtTheCounterIntervalNotEverySecond()
    {
        await using var factory = new ConsumerFactory(new Dictionary<string, string?>
        {
            ["PulseCart:Dashboard:CounterUpdateInterval"] = "00:00:03",
        });
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/dashboard/")).StatusCode);

        // A probe on Orleans' own meter, which the dashboard's reader samples with every other Orleans instrument
        // (some of which walk every activation).
        var samples = 0;
        factory.Services.GetRequiredService<OrleansInstruments>().Meter
            .CreateObservableGauge("pulsecart-test-dashboard-samples", () => Interlocked.Increment(ref samples));
        await Task.Delay(TimeSpan.FromSeconds(6.5));

        // Every 3 s: twice in 6.5 s (three at the edges). Once a second, Orleans.Dashboard's own rate, would be 6 or 7.
        Assert.InRange(Volatile.Read(ref samples), 1, 3);
    }
}
