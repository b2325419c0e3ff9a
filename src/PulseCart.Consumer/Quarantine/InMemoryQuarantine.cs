using Microsoft.Extensions.Options;

namespace PulseCart.Consumer.Quarantine;

/// <summary>The embedded default: kept for the life of the process, like the in-memory grain storage beside it.</summary>
public sealed class InMemoryQuarantine(IOptions<QuarantineOptions> options) : IQuarantine
{
    private readonly LinkedList<QuarantineEntry> _entries = new();
    private readonly Lock _lock = new();
    private long _bytes;
    private long _evicted;

    public Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _entries.AddFirst(entry);
            _bytes += entry.BodyBytes;

            // The newest entry stays even when it alone exceeds the byte bound: it was just acknowledged.
            while (_entries.Count > 1 && (_entries.Count > options.Value.MaxEntries || _bytes > options.Value.MaxBytes))
            {
                _bytes -= _entries.Last!.Value.BodyBytes;
                _entries.RemoveLast();
                _evicted++;
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<QuarantineEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<QuarantineEntry>>(_entries.Skip(offset).Take(limit).ToList());
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

    public QuarantineStats? Stats()
    {
        lock (_lock)
        {
            return new QuarantineStats(_entries.Count, _bytes, _evicted);
        }
    }
}
