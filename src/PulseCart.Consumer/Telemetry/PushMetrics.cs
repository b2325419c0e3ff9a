using System.Diagnostics;
using System.Diagnostics.Metrics;
using PulseCart.Abstractions.Events;

namespace PulseCart.Consumer.Telemetry;

/// <summary>Domain instruments. Tags stay low-cardinality: event types outside the contract count as <c>other</c>.</summary>
public sealed class PushMetrics
{
    public const string MeterName = "PulseCart.Consumer";

    private readonly Counter<long> _received;
    private readonly Histogram<double> _duration;

    public PushMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("pulsecart.push.received", unit: "{message}",
            description: "Push deliveries by event type and outcome");
        _duration = meter.CreateHistogram<double>("pulsecart.push.duration", unit: "s",
            description: "Time to handle one push delivery");
    }

    public void Record(string? eventType, string outcome, TimeSpan elapsed)
    {
        var type = eventType is null ? "unknown" : EventTypes.IsRouted(eventType) ? eventType : "other";
        var tags = new TagList { { "event_type", type }, { "outcome", outcome } };
        _received.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
    }
}
