using Microsoft.Extensions.Options;
using PulseCart.Grains.Events;
using PulseCart.Grains.Persistence;

namespace PulseCart.Consumer.Events;

/// <summary>Turns <c>PulseCart:Events</c> and the current time into the window of <c>occurred_at</c> accepted now.</summary>
public sealed class EventClock(TimeProvider time, IOptions<EventTimeOptions> events, IOptions<DedupOptions> dedup)
{
    private readonly TimeSpan _maxAge = events.Value.EffectiveMaxAge(dedup.Value);
    private readonly TimeSpan _skew = events.Value.ClockSkew;

    public EventTimeWindow Window()
    {
        var now = time.GetUtcNow();
        return new EventTimeWindow(now - _maxAge, now + _skew);
    }
}
