using System.Runtime.CompilerServices;
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
            _bytes += entry.HeldBytes;

            // The newest entry stays even when it alone exceeds the byte bound: it was just acknowledged.
            TrimKeeping(_entries.AddFirst(entry));
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

    public async IAsyncEnumerable<QuarantineEntry> ScanAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        List<QuarantineEntry> snapshot;
        lock (_lock)
        {
            snapshot = [.. _entries];
        }

        foreach (var entry in snapshot)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return entry;
        }

        await Task.CompletedTask;
    }

    public Task<IReadOnlyList<BodyHead?>> HeadsAsync(IReadOnlyList<string> ids, int bytes, CancellationToken cancellationToken = default)
    {
        var heads = ids.ToDictionary(id => id, _ => (BodyHead?)null, StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var entry in _entries)
            {
                if (heads.ContainsKey(entry.Id))
                {
                    heads[entry.Id] = BodyHead.Of(entry.Body, bytes);
                }
            }
        }

        return Task.FromResult<IReadOnlyList<BodyHead?>>(ids.Select(id => heads[id]).ToList());
    }

    public Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(Find(id)?.Value);
        }
    }

    public Task<QuarantineEntry?> UpdateAsync(string id, Func<QuarantineEntry, QuarantineEntry> change, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (Find(id) is not { } node)
            {
                return Task.FromResult<QuarantineEntry?>(null);
            }

            var changed = change(node.Value);
            if (!ReferenceEquals(changed, node.Value))
            {
                changed = changed with { EditedBytes = changed.EditedAt is null ? 0 : changed.EditedBody.Length };
                _bytes += changed.HeldBytes - node.Value.HeldBytes;
                node.Value = changed;

                // An edited body counts toward the bound too; the entry being edited stays.
                TrimKeeping(node);
            }

            return Task.FromResult<QuarantineEntry?>(changed);
        }
    }

    public QuarantineStats? Stats()
    {
        lock (_lock)
        {
            return new QuarantineStats(_entries.Count, _bytes, _evicted);
        }
    }

    // Evicts the oldest entries, except kept, until both bounds hold or only kept is left.
    private void TrimKeeping(LinkedListNode<QuarantineEntry> kept)
    {
        while (_entries.Count > 1 && (_entries.Count > options.Value.MaxEntries || _bytes > options.Value.MaxBytes))
        {
            var oldest = _entries.Last == kept ? kept.Previous! : _entries.Last!;
            _bytes -= oldest.Value.HeldBytes;
            _entries.Remove(oldest);
            _evicted++;
        }
    }

    private LinkedListNode<QuarantineEntry>? Find(string id)
    {
        for (var node = _entries.First; node is not null; node = node.Next)
        {
            if (node.Value.Id == id)
            {
                return node;
            }
        }

        return null;
    }
}
