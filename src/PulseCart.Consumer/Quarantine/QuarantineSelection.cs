namespace PulseCart.Consumer.Quarantine;

/// <summary>
/// Which entries an operator means: any combination of a cause group (<see cref="QuarantineCauses.Key"/>), source
/// (<c>push</c>, <c>task</c>), event type, event id, cart id and order id, each matched exactly; and, for listings,
/// a state (<c>open</c>, <c>replayed</c>, <c>discarded</c>). Empty fields match everything.
/// </summary>
public sealed record QuarantineSelection(
    string? Group = null,
    string? Source = null,
    string? EventType = null,
    string? EventId = null,
    string? CartId = null,
    string? OrderId = null,
    string? State = null)
{
    /// <summary>Whether anything narrows it down: bulk actions refuse a selection of everything by accident.</summary>
    public bool NamesSomething =>
        !string.IsNullOrEmpty(Group) || !string.IsNullOrEmpty(Source) || !string.IsNullOrEmpty(EventType)
        || !string.IsNullOrEmpty(EventId) || !string.IsNullOrEmpty(CartId) || !string.IsNullOrEmpty(OrderId);

    public bool IsEmpty => !NamesSomething && string.IsNullOrEmpty(State);

    /// <summary>
    /// Whether a field is longer than any value an entry keeps (<see cref="Delivery.ShownText.MaxNameChars"/>; a group key
    /// is shorter still): such a selection matches nothing, and a job would keep and audit it whole.
    /// </summary>
    public bool HasOverlongField =>
        new[] { Group, Source, EventType, EventId, CartId, OrderId, State }.Any(value => value?.Length > Delivery.ShownText.MaxNameChars);

    public bool Matches(QuarantineEntry entry) =>
        Is(Source, entry.Source) && Is(EventType, entry.EventType) && Is(EventId, entry.EventId)
        && Is(CartId, entry.CartId) && Is(OrderId, entry.OrderId) && Is(State, entry.State)
        && (string.IsNullOrEmpty(Group) || QuarantineCauses.Key(QuarantineCauses.Normalise(entry.Reason)) == Group);

    /// <summary>An empty field matches anything; a filled one only itself.</summary>
    private static bool Is(string? wanted, string? actual) => string.IsNullOrEmpty(wanted) || string.Equals(wanted, actual, StringComparison.Ordinal);

    /// <summary>The selection without what makes up one group, for listing the groups inside it.</summary>
    public QuarantineSelection WithoutGroup() => this with { Group = null };

    public override string ToString() =>
        string.Join(", ", new[] { ("group", Group), ("source", Source), ("event_type", EventType), ("event_id", EventId), ("cart_id", CartId), ("order_id", OrderId), ("state", State) }
            .Where(field => !string.IsNullOrEmpty(field.Item2))
            .Select(field => $"{field.Item1}={field.Item2}")) is { Length: > 0 } text ? text : "everything";
}

/// <summary>The entries of one cause, with how many still wait for an operator.</summary>
public sealed record QuarantineGroup(
    string Group,
    string Cause,
    string Example,
    int Count,
    int Open,
    int Replayed,
    int Discarded,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    IReadOnlyList<string> Sources,
    IReadOnlyList<string> EventTypes);

public sealed record QuarantineGroups(IReadOnlyList<QuarantineGroup> Groups, int Entries);

/// <summary>Groups and filtered pages over any quarantine store (both read the same way).</summary>
public static class QuarantineQueries
{
    /// <summary>Groups by cause inside <paramref name="selection"/> (its group, if any, ignored): most open first, then latest.</summary>
    public static async Task<QuarantineGroups> GroupAsync(IQuarantine quarantine, QuarantineSelection selection, CancellationToken cancellationToken)
    {
        var filter = selection.WithoutGroup();
        var groups = new Dictionary<string, GroupTally>();
        var entries = 0;
        await foreach (var entry in quarantine.ScanAsync(cancellationToken))
        {
            if (!filter.Matches(entry))
            {
                continue;
            }

            entries++;
            var cause = QuarantineCauses.Normalise(entry.Reason);
            if (!groups.TryGetValue(cause, out var tally))
            {
                // Scanned newest first: the example is the latest reason.
                groups[cause] = tally = new GroupTally(entry.Reason, entry.ReceivedAt);
            }

            tally.Add(entry);
        }

        return new QuarantineGroups(
            groups.Select(pair => pair.Value.ToGroup(pair.Key))
                .OrderByDescending(group => group.Open)
                .ThenByDescending(group => group.LastSeen)
                .ToList(),
            entries);
    }

    /// <summary>
    /// One page of the entries <paramref name="selection"/> names, newest first, as listed at <paramref name="now"/>:
    /// only the start of each body is read.
    /// </summary>
    public static async Task<IReadOnlyList<QuarantineListing>> ListAsync(
        IQuarantine quarantine, QuarantineSelection selection, int offset, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var page = selection.IsEmpty ? await quarantine.ListAsync(offset, limit, cancellationToken) : await SelectAsync(quarantine, selection, offset, limit, cancellationToken);
        var heads = await quarantine.HeadsAsync(page.Select(entry => entry.Id).ToList(), QuarantineEntry.HeadBytes, cancellationToken);

        // An entry an earlier version kept has its body inside its metadata, and so no head apart.
        return page.Select((entry, i) => entry.ToListing(heads[i] ?? BodyHead.Of(entry.Body, QuarantineEntry.HeadBytes), now)).ToList();
    }

    private static async Task<IReadOnlyList<QuarantineEntry>> SelectAsync(
        IQuarantine quarantine, QuarantineSelection selection, int offset, int limit, CancellationToken cancellationToken)
    {
        var page = new List<QuarantineEntry>(limit);
        var skipped = 0;
        await foreach (var entry in quarantine.ScanAsync(cancellationToken))
        {
            if (selection.Matches(entry) && skipped++ >= offset)
            {
                page.Add(entry);
                if (page.Count == limit)
                {
                    break;
                }
            }
        }

        return page;
    }

    private sealed class GroupTally(string example, DateTimeOffset receivedAt)
    {
        private readonly SortedSet<string> _sources = new(StringComparer.Ordinal);
        private readonly SortedSet<string> _eventTypes = new(StringComparer.Ordinal);
        private int _count, _open, _replayed, _discarded;
        private DateTimeOffset _firstSeen = receivedAt, _lastSeen = receivedAt;

        public void Add(QuarantineEntry entry)
        {
            _count++;
            switch (entry.State)
            {
                case QuarantineStates.Open: _open++; break;
                case QuarantineStates.Replayed: _replayed++; break;
                default: _discarded++; break;
            }

            _firstSeen = entry.ReceivedAt < _firstSeen ? entry.ReceivedAt : _firstSeen;
            _lastSeen = entry.ReceivedAt > _lastSeen ? entry.ReceivedAt : _lastSeen;
            _sources.Add(entry.Source);
            if (entry.EventType is { } type)
            {
                _eventTypes.Add(type);
            }
        }

        public QuarantineGroup ToGroup(string cause) => new(
            QuarantineCauses.Key(cause), cause, example, _count, _open, _replayed, _discarded, _firstSeen, _lastSeen, [.. _sources], [.. _eventTypes]);
    }
}
