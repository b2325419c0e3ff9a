using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Quarantine;
using StackExchange.Redis;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The in-memory quarantine, made to misbehave as the Redis one can: failing while Redis is down, to add entries
/// (<see cref="AddsFail"/>) or change them (<see cref="FailUpdatesAfter"/>); or scanning an entry twice
/// (<see cref="ScansTwice"/>), as its scan by position does when entries are added meanwhile. Reads always work.
/// </summary>
public sealed class FlakyQuarantine(IOptions<QuarantineOptions> options) : IQuarantine
{
    private readonly InMemoryQuarantine _inner = new(options);

    public volatile bool AddsFail;

    private int _updatesLeft = int.MaxValue;

    /// <summary>From now on, <paramref name="updates"/> more changes are kept, then every change fails.</summary>
    public void FailUpdatesAfter(int updates) => Volatile.Write(ref _updatesLeft, updates);

    public volatile bool ScansTwice;

    public volatile bool GetsFail;

    public Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default) =>
        AddsFail ? throw Down() : _inner.AddAsync(entry, cancellationToken);

    public Task<IReadOnlyList<QuarantineEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default) =>
        _inner.ListAsync(offset, limit, cancellationToken);

    public async IAsyncEnumerable<QuarantineEntry> ScanAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in _inner.ScanAsync(cancellationToken))
        {
            yield return entry;
            if (ScansTwice)
            {
                yield return entry;
            }
        }
    }

    public Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        GetsFail ? throw Down() : _inner.GetAsync(id, cancellationToken);

    public Task<IReadOnlyList<BodyHead?>> HeadsAsync(IReadOnlyList<string> ids, int bytes, CancellationToken cancellationToken = default) =>
        _inner.HeadsAsync(ids, bytes, cancellationToken);

    public Task<QuarantineEntry?> UpdateAsync(string id, Func<QuarantineEntry, QuarantineEntry> change, CancellationToken cancellationToken = default) =>
        Interlocked.Decrement(ref _updatesLeft) < 0 ? throw Down() : _inner.UpdateAsync(id, change, cancellationToken);

    public QuarantineStats? Stats() => _inner.Stats();

    private static RedisConnectionException Down() => new(ConnectionFailureType.UnableToConnect, "redis is down");
}
