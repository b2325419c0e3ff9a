using System.ComponentModel.DataAnnotations;

namespace PulseCart.Grains.Reminders;

/// <summary>Cart abandonment reminders (<c>PulseCart:Reminders</c>).</summary>
public sealed class RemindersOptions
{
    public const string Section = "PulseCart:Reminders";

    /// <summary>Cloud Tasks refuses a <c>scheduleTime</c> further ahead than this.</summary>
    public static readonly TimeSpan CloudTasksMaxScheduleAhead = TimeSpan.FromDays(30);

    /// <summary>
    /// How long after <c>occurred_at</c> of <c>cart.abandoned</c> the cart is re-checked. With
    /// <c>PulseCart:Events:ClockSkew</c> it must stay within Cloud Tasks' 30 days (checked at start).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00", ErrorMessage = "PulseCart:Reminders:Delay must be between 0 and 30 days.")]
    public TimeSpan Delay { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// The queue's <c>retryConfig.maxAttempts</c>. The callback attempt whose retry count reaches this minus one is the
    /// last: a reminder that fails then is dead-lettered into the quarantine and acknowledged, so nothing loops or is lost.
    /// </summary>
    [Range(1, 1_000, ErrorMessage = "PulseCart:Reminders:MaxAttempts must be between 1 and 1000.")]
    public int MaxAttempts { get; set; } = 20;

    /// <summary>
    /// How long a reminder that calls back more than <see cref="OverdueAfter"/> past its due time (held back by a paused
    /// queue or an outage, or made due on arrival by a late abandonment) waits before it is sent, so that the cart's
    /// purchase, which may wait in the same backlog, can arrive first. Zero sends at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "PulseCart:Reminders:OverdueWait must be between 0 and 1 hour.")]
    public TimeSpan OverdueWait { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A callback this long past the due time was held back; Cloud Tasks dispatches on time within seconds.</summary>
    public static readonly TimeSpan OverdueAfter = TimeSpan.FromMinutes(1);
}
