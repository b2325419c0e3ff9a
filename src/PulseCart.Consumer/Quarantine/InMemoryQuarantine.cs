using Microsoft.Extensions.Options;

namespace PulseCart.Consumer.Quarantine;

/// <summary>The embedded default: kept for the life of the process, like the in-memory grain storage beside it.</summary>
public sealed class InMemoryQuarantine(IOptions<QuarantineOptions> options) : IQuarantine
{
    private readonly LinkedList<QuarantineEntry> _entries = new();
    private readonly Lock _lock = new();

    public Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default)
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

    public Task<IReadOnlyList<QuarantineEntry>> ListAsync(int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<QuarantineEntry>>(_entries.Take(limit).ToList());
        }
    }

    public Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_entries.FirstOrDefault(entry => entry.Id == id));
        }
    }

    public Task MarkReplayedAsync(string id, DateTimeOffset at, string outcome, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            for (var node = _entries.First; node is not null; node = node.Next)
            {
                if (node.Value.Id == id)
                {
                    node.Value = node.Value with { ReplayedAt = at, ReplayOutcome = outcome };
                }
            }
        }

        return Task.CompletedTask;
    }

    public long? Count()
    {
        lock (_lock)
        {
            return _entries.Count;
        }
    }
}
