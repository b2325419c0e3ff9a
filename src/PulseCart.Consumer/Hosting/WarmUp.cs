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

    /// <summary>Carts of its own the warm-up activates before the consumer reports ready; 0 reports ready at once.</summary>
    [Range(0, 100_000, ErrorMessage = "PulseCart:WarmUp:Carts must be between 0 and 100000.")]
    public int Carts { get; set; } = 4_000;

    /// <summary>The warm-up never delays readiness longer than this, whatever it has done by then.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "PulseCart:WarmUp:MaxDuration must be between 0 and 5 minutes.")]
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>
/// Before the consumer reports ready, sends synthetic <c>cart.updated</c> events through the push path on carts of its
/// own: to each cart a first event (activation, state read and write) and a second (a write on an active cart), each
/// delivered twice (the duplicate answer). A process that starts under load then meets it with its hot code already
/// compiled: the runtime counts calls from the first one (the image's <c>DOTNET_TC_CallCountingDelayMs=0</c>) and
/// recompiles on a background thread, which here happens before readiness instead of under the first real pushes.
/// <c>cart.updated</c> sends no message and schedules no task. The carts are the same on every start (their ids bounded
/// by the dedup window), so storage holds a fixed set of them; the deliveries are neither counted in metrics nor shown
/// on the operator page.
/// </summary>
public sealed class WarmUp(
    PushHandler pushes, ISiloStatusOracle silo, IOptions<WarmUpOptions> options, TimeProvider time, ILogger<WarmUp> logger)
    : BackgroundService, IHealthCheck
{
    public const string CartPrefix = "pulsecart-warm-up-";

    // Enough deliveries in flight to keep every core busy, as the first real pushes would.
    private const int Concurrency = 16;

    private volatile bool _done;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_done ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("warming up"));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        deadline.CancelAfter(options.Value.MaxDuration);
        var carts = options.Value.Carts;
        var sent = 0;
        try
        {
            while (silo.CurrentStatus != SiloStatus.Active)
            {
                await Task.Delay(50, deadline.Token);
            }

            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, Math.Min(Concurrency, carts)).Select(async _ =>
            {
                int cart;
                while ((cart = Interlocked.Increment(ref next)) < carts && !deadline.IsCancellationRequested)
                {
                    for (var round = 0; round < 2; round++)
                    {
                        var body = Body($"{CartPrefix}{cart}");
                        await pushes.WarmUpAsync(body, deadline.Token);
                        await pushes.WarmUpAsync(body, deadline.Token);
                        Interlocked.Add(ref sent, 2);
                    }
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
            logger.LogInformation("Warm-up: {Deliveries} synthetic deliveries in {Elapsed} before reporting ready", sent, time.GetElapsedTime(started));
            _done = true;
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
