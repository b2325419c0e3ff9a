using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.PubSub;

namespace PulseCart.Consumer.Hosting;

/// <summary>The warm-up pass before readiness (<c>PulseCart:WarmUp</c>).</summary>
public sealed class WarmUpOptions
{
    public const string Section = "PulseCart:WarmUp";

    /// <summary>Synthetic events through the push path before the consumer reports ready; 0 reports ready at once.</summary>
    [Range(0, 1_000_000, ErrorMessage = "PulseCart:WarmUp:Events must be between 0 and 1000000.")]
    public int Events { get; set; } = 3_000;

    /// <summary>The warm-up never delays readiness longer than this, whatever it has done by then.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "PulseCart:WarmUp:MaxDuration must be between 0 and 5 minutes.")]
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>
/// Before the consumer reports ready, sends synthetic <c>cart.updated</c> events and their redeliveries through the push
/// path (decode, parse, fingerprint, grain call, state write, the duplicate answer) on a few carts of its own, so that
/// compiling the hot code happens before the first real push instead of under it. <c>cart.updated</c> sends no message
/// and schedules no task; the carts' state stays in storage like any other (16 carts, their ids bounded by the dedup
/// window), and the deliveries are neither counted in metrics nor shown on the operator page.
/// </summary>
public sealed class WarmUp(
    PushHandler pushes, ISiloStatusOracle silo, IOptions<WarmUpOptions> options, TimeProvider time, ILogger<WarmUp> logger)
    : BackgroundService, IHealthCheck
{
    public const string CartPrefix = "pulsecart-warm-up-";

    private const int Carts = 16;

    private volatile bool _done;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_done ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("warming up"));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        deadline.CancelAfter(options.Value.MaxDuration);
        var sent = 0;
        try
        {
            while (silo.CurrentStatus != SiloStatus.Active)
            {
                await Task.Delay(50, deadline.Token);
            }

            var perCart = (options.Value.Events + Carts - 1) / Carts;
            await Task.WhenAll(Enumerable.Range(0, Carts).Select(async cart =>
            {
                for (var i = 0; i < perCart && !deadline.IsCancellationRequested; i++)
                {
                    var body = Body($"{CartPrefix}{cart}");
                    await pushes.WarmUpAsync(body, deadline.Token);
                    await pushes.WarmUpAsync(body, deadline.Token);
                    Interlocked.Add(ref sent, 2);
                }
            }));
        }
        catch (Exception exception) when (exception is OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Warming up is only ever an optimisation: whatever stopped it, readiness goes on to the real checks.
            logger.LogInformation("Warm-up stopped early: {Reason}", exception.Message);
        }
        finally
        {
            _done = true;
            logger.LogInformation("Warm-up: {Deliveries} synthetic deliveries in {Elapsed} before reporting ready", sent, time.GetElapsedTime(started));
        }
    }

    private byte[] Body(string cartId)
    {
        var occurredAt = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");
        var @event = $$$"""{"event_id":"warm-up-{{{Guid.NewGuid():N}}}","event_type":"cart.updated","event_version":1,"occurred_at":"{{{occurredAt}}}","source":"pulsecart-warm-up","payload":{"cart_id":"{{{cartId}}}"}}""";
        return Encoding.UTF8.GetBytes(
            $$"""{"message":{"data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(@event))}}","messageId":"warm-up"},"subscription":"pulsecart-warm-up"}""");
    }
}
