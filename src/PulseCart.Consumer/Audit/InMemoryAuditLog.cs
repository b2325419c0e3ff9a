using Microsoft.Extensions.Options;

namespace PulseCart.Consumer.Audit;

/// <summary>Without Redis: kept for the life of the process.</summary>
public sealed class InMemoryAuditLog(IOptions<AuditOptions> options) : IAuditLog
{
    private readonly LinkedList<AuditEntry> _entries = new();
    private readonly Lock _lock = new();

    public Task AddAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _entries.AddFirst(entry);
            while (_entries.Count > options.Value.MaxEntries)
            {
                _entries.RemoveLast();
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AuditEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<AuditEntry>>(_entries.Skip(offset).Take(limit).ToList());
        }
    }
}
