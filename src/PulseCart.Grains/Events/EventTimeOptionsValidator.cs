using Microsoft.Extensions.Options;
using PulseCart.Grains.Persistence;
using PulseCart.Grains.Reminders;

namespace PulseCart.Grains.Events;

/// <summary>
/// The bounds that involve more than one section: an accepted event must be inside the dedup window, and its reminder
/// must fall within what Cloud Tasks accepts, so that no accepted event can meet a permanent refusal later.
/// </summary>
public sealed class EventTimeOptionsValidator(IOptions<DedupOptions> dedup, IOptions<RemindersOptions> reminders)
    : IValidateOptions<EventTimeOptions>
{
    // The push that schedules a reminder may take a few seconds after the event was judged to be in time.
    private static readonly TimeSpan SchedulingMargin = TimeSpan.FromMinutes(1);

    public ValidateOptionsResult Validate(string? name, EventTimeOptions options)
    {
        var failures = new List<string>();
        if (options.MaxAge is { } maxAge && (maxAge <= TimeSpan.Zero || maxAge > dedup.Value.Window))
        {
            failures.Add(
                $"PulseCart:Events:MaxAge ({maxAge}) must be positive and at most PulseCart:Dedup:Window ({dedup.Value.Window}): " +
                "an older event could be a redelivery of one whose id is no longer remembered. Raise the window too.");
        }

        var latestDue = reminders.Value.Delay + options.ClockSkew + SchedulingMargin;
        if (latestDue > RemindersOptions.CloudTasksMaxScheduleAhead)
        {
            failures.Add(
                $"PulseCart:Reminders:Delay ({reminders.Value.Delay}) plus PulseCart:Events:ClockSkew ({options.ClockSkew}) and a minute's margin " +
                $"must stay within Cloud Tasks' limit of {RemindersOptions.CloudTasksMaxScheduleAhead.TotalDays} days ahead.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
