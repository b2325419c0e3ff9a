using System.ComponentModel.DataAnnotations;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Events;

/// <summary>Which <c>occurred_at</c> values are plausible (<c>PulseCart:Events</c>); anything outside is quarantined.</summary>
public sealed class EventTimeOptions
{
    public const string Section = "PulseCart:Events";

    /// <summary>
    /// How far a publisher's clock may run ahead of ours: <c>occurred_at</c> later than now plus this is refused, and a
    /// reminder callback this early is not yet due.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "PulseCart:Events:ClockSkew must be between 0 and 1 day.")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The oldest <c>occurred_at</c> accepted; unset means <c>PulseCart:Dedup:Window</c>. An older event could be a
    /// redelivery of one handled longer ago than the grains remember ids, so processing it could repeat its effect.
    /// </summary>
    public TimeSpan? MaxAge { get; set; }

    public TimeSpan EffectiveMaxAge(DedupOptions dedup) => MaxAge ?? dedup.Window;
}
