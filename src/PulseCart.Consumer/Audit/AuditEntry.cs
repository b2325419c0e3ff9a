using System.ComponentModel.DataAnnotations;

namespace PulseCart.Consumer.Audit;

/// <summary>
/// One thing an operator did: who (the identity operator authentication established), when, what (<see cref="Action"/>:
/// <c>replay</c>, <c>discard</c>, <c>edit_replay</c>, and whatever later actions such as <c>pause</c> and
/// <c>resume</c> name themselves), to what, and what came of it.
/// </summary>
public sealed record AuditEntry(string Id, DateTimeOffset At, string Operator, string Action, string Target, string Outcome);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, int Offset, int? NextOffset);

/// <summary>Where operators' actions are kept, newest first, within <see cref="AuditOptions.MaxEntries"/>.</summary>
public interface IAuditLog
{
    /// <summary>Keeps the entry; throws when it could not.</summary>
    Task AddAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Entries newest first, skipping <paramref name="offset"/>.</summary>
    Task<IReadOnlyList<AuditEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default);
}

/// <summary>The operator audit (<c>PulseCart:Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string Section = "PulseCart:Audit";

    /// <summary>Entries kept, newest first; older ones drop off (each is also in the log, at Information).</summary>
    [Range(10, 1_000_000, ErrorMessage = "PulseCart:Audit:MaxEntries must be between 10 and 1000000.")]
    public int MaxEntries { get; set; } = 10_000;
}
