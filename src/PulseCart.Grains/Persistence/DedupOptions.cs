using System.ComponentModel.DataAnnotations;

namespace PulseCart.Grains.Persistence;

/// <summary>How long each cart and order remembers the event ids it handled (<c>PulseCart:Dedup</c>).</summary>
public sealed class DedupOptions
{
    public const string Section = "PulseCart:Dedup";

    /// <summary>How long an event id is remembered. At least 7 days, Pub/Sub's longest redelivery span.</summary>
    [Range(typeof(TimeSpan), "7.00:00:00", "365.00:00:00", ErrorMessage = "PulseCart:Dedup:Window must be between 7 days and 365 days.")]
    public TimeSpan Window { get; set; } = TimeSpan.FromDays(8);

    /// <summary>Upper bound on remembered ids per cart or order, oldest forgotten first; guards against floods.</summary>
    [Range(100, 1_000_000, ErrorMessage = "PulseCart:Dedup:MaxEventIdsPerGrain must be between 100 and 1000000.")]
    public int MaxEventIdsPerGrain { get; set; } = 10_000;
}
