using System.Security.Claims;

namespace PulseCart.Consumer.Audit;

/// <summary>
/// Records what operators do: a structured Information log line (<c>{Operator}</c>, <c>{Action}</c>, <c>{Target}</c>,
/// <c>{Outcome}</c>) and an entry in the audit list. The action has happened by then, so a store that cannot keep the
/// entry costs the list that entry (a warning says so), not the action: the log line has it.
/// </summary>
public sealed class OperatorAudit(IAuditLog log, TimeProvider time, ILogger<OperatorAudit> logger)
{
    /// <summary>Who acts when the operator policy let a Development browser on loopback in without credentials.</summary>
    public const string DevelopmentLoopback = "development-loopback";

    /// <summary>
    /// The operator as authentication named them: <c>token</c> for the bearer token, the user name for basic
    /// credentials, the email for a Google account.
    /// </summary>
    public static string Who(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : DevelopmentLoopback;

    /// <summary>
    /// Runs an operator's action; if it throws, records it as failed part-way, with <paramref name="mayHave"/> saying
    /// what it may have done already, before the error goes on to the caller.
    /// </summary>
    public async Task<T> RecordIfFailedAsync<T>(string who, string action, string target, string mayHave, Func<Task<T>> act)
    {
        try
        {
            return await act();
        }
        catch (Exception exception)
        {
            await RecordAsync(who, action, target, $"failed part-way, {mayHave}: {exception.GetType().Name}: {exception.Message}");
            throw;
        }
    }

    public async Task<AuditEntry> RecordAsync(string who, string action, string target, string outcome)
    {
        var entry = new AuditEntry(Guid.CreateVersion7().ToString("N"), time.GetUtcNow(), who, action, target, outcome);
        logger.LogInformation(
            "Operator {Operator} did {Action} on {Target}: {Outcome} (audit {AuditId})", who, action, target, outcome, entry.Id);
        try
        {
            // Not cancelled with the request: the action it records has happened.
            await log.AddAsync(entry, CancellationToken.None);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Audit entry {AuditId} could not be kept in the audit list; the log line above has it", entry.Id);
        }

        return entry;
    }
}
