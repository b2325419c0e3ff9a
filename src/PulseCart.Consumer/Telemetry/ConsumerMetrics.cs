using System.Diagnostics;
using System.Diagnostics.Metrics;
using PulseCart.Abstractions.Events;
using PulseCart.Consumer.Charts;
using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Telemetry;

/// <summary>
/// The consumer's domain instruments and its trace source. Tags stay low-cardinality: never an id, and event
/// types outside the contract count as <c>other</c>.
/// </summary>
public sealed class ConsumerMetrics
{
    public const string MeterName = "PulseCart.Consumer";

    public static readonly ActivitySource Traces = new(MeterName);

    private readonly Counter<long> _received;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _reminders;
    private readonly OpsCharts _charts;

    public ConsumerMetrics(IMeterFactory meterFactory, IQuarantine quarantine, OpsCharts charts)
    {
        _charts = charts;
        var quarantineStats = new LatestQuarantineStats(quarantine);
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("pulsecart.push.received", unit: "{message}",
            description: "Push deliveries by event type and outcome (processed, duplicate, stale, ignored, quarantined, failed, unauthorised)");
        _duration = meter.CreateHistogram<double>("pulsecart.push.duration", unit: "s",
            description: "Time to handle one push delivery");
        _messages = meter.CreateCounter<long>("pulsecart.messages.sent", unit: "{message}",
            description: "Messages the sink accepted, by template and sink");
        _reminders = meter.CreateCounter<long>("pulsecart.reminders", unit: "{reminder}",
            description: "Reminders by outcome (scheduled, sent, already_sent, skipped, dead_lettered, continued) and skip reason");
        meter.CreateObservableGauge(
            "pulsecart.quarantine.size",
            () => quarantineStats.Get() is { } stats ? [new Measurement<long>(stats.Entries)] : Array.Empty<Measurement<long>>(),
            unit: "{entry}",
            description: "Entries in the quarantine");
        meter.CreateObservableGauge(
            "pulsecart.quarantine.bytes",
            () => quarantineStats.Get() is { } stats ? [new Measurement<long>(stats.Bytes)] : Array.Empty<Measurement<long>>(),
            unit: "By",
            description: "Bytes of bodies kept in the quarantine");
        meter.CreateObservableCounter(
            "pulsecart.quarantine.evicted",
            () => quarantineStats.Get() is { } stats ? [new Measurement<long>(stats.Evicted)] : Array.Empty<Measurement<long>>(),
            unit: "{entry}",
            description: "Entries evicted, oldest first, to keep the quarantine within PulseCart:Quarantine:MaxEntries and MaxBytes");
    }

    private long _deliveries;

    /// <summary>
    /// Moves with every push and every reminder outcome (so with every task callback): it tells work arriving from the
    /// silo's housekeeping. Not an exact count: an abandonment's push moves it twice.
    /// </summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    public void PushReceived(string? eventType, string outcome, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _deliveries);
        var type = eventType is null ? "unknown" : EventTypes.Routed(eventType) ?? "other";
        var tags = new TagList { { "event_type", type }, { "outcome", outcome } };
        _received.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
        _charts.Delivery(outcome);
    }

    public void MessageSent(string template, string sink) =>
        _messages.Add(1, new TagList { { "template", template }, { "sink", sink } });

    public void Reminder(string outcome, string? reason = null)
    {
        Interlocked.Increment(ref _deliveries);
        _reminders.Add(1, new TagList { { "outcome", outcome }, { "reason", reason ?? "" } });
        _charts.Reminder(outcome);
    }
}
