using System.Diagnostics.Metrics;
using PulseCart.Consumer.Telemetry;

namespace PulseCart.Consumer.Pause;

/// <summary>
/// Keeps this instance's view of the shared switch current: at start it logs a pause that is on and applies its parts
/// again (<see cref="PauseSwitch.ReconcileAsync"/>), then rereads the store every <see cref="Interval"/>, so
/// <c>pulsecart.pause.active</c> and the log follow a pause or resume made on another instance. Readiness does not look
/// at the switch: a paused consumer stays ready, so Kubernetes keeps its pods.
/// </summary>
public sealed class PauseMonitor : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private readonly PauseSwitch _switch;
    private readonly TimeProvider _time;
    private readonly ILogger<PauseMonitor> _logger;

    public PauseMonitor(PauseSwitch pauseSwitch, IMeterFactory meterFactory, TimeProvider time, ILogger<PauseMonitor> logger)
    {
        _switch = pauseSwitch;
        _time = time;
        _logger = logger;

        // Created here rather than with the push instruments: a consumer started while paused receives no push, and the
        // gauge must exist all the same.
        meterFactory.Create(ConsumerMetrics.MeterName).CreateObservableGauge(
            "pulsecart.pause.active",
            () => _switch.Current is null ? 0 : 1,
            description: "1 while the operator pause switch holds pushes and reminders back, else 0");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the host's start: a store or an API that is slow to answer must not hold it up.
        await Task.Yield();
        try
        {
            await _switch.ReconcileAsync(stoppingToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            _logger.LogWarning(exception, "Could not read the pause switch at start; trying again in {Interval}", Interval);
        }

        using var timer = new PeriodicTimer(Interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var before = _switch.Current;
            try
            {
                var now = await _switch.ReadAsync(stoppingToken);
                if (before is null && now is not null)
                {
                    _logger.LogInformation("Deliveries were paused on another instance since {Since} by {Operator}", now.Since, now.By);
                }
                else if (before is not null && now is null)
                {
                    _logger.LogInformation("Deliveries were resumed on another instance (paused since {Since} by {Operator})", before.Since, before.By);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                _logger.LogWarning("Could not read the pause switch: {Reason}", exception.Message);
            }
        }
    }
}
