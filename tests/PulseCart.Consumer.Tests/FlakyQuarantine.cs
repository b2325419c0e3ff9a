using Microsoft.Extensions.Options;
using PulseCart.Consumer.Quarantine;
using StackExchange.Redis;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The in-memory quarantine, made to fail as the Redis one does while Redis is down: adding entries
/// (<see cref="AddsFail"/>) or changing them (<see cref="UpdatesFail"/>). Reads always work.
/// </summary>
public sealed class FlakyQuarantine(IOptions<QuarantineOptions> options) : IQuarantine
{
    private readonly InMemoryQuarantine _inner = new(options);

    public volatile bool AddsFail;

    public volatile bool UpdatesFail;

    public Task AddAsync(QuarantineEntry entry, CancellationToken cancellationToken = default) =>
        AddsFail ? throw Down() : _inner.AddAsync(entry, cancellationToken);

    public Task<IReadOnlyList<QuarantineEntry>> ListAsync(int offset, int limit, CancellationToken cancellationToken = default) =>
        _inner.ListAsync(offset, limit, cancellationToken);

    public IAsyncEnumerable<QuarantineEntry> ScanAsync(CancellationToken cancellationToken = default) => _inner.ScanAsync(cancellationToken);

    public Task<QuarantineEntry?> GetAsync(string id, CancellationToken cancellationToken = default) => _inner.GetAsync(id, cancellationToken);

    public Task<QuarantineEntry?> UpdateAsync(string id, Func<QuarantineEntry, QuarantineEntry> change, CancellationToken cancellationToken = default) =>
        UpdatesFail ? throw Down() : _inner.UpdateAsync(id, change, cancellationToken);

    public QuarantineStats? Stats() => _inner.Stats();

    private static RedisConnectionException Down() => new(ConnectionFailureType.UnableToConnect, "redis is down");
}
