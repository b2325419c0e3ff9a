using System.Collections.Concurrent;
using PulseCart.Consumer.Audit;
using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Ops;

/// <summary>How many entries of a bulk action came to what.</summary>
public sealed record BulkCounts(
    int Processed,
    int Duplicate,
    int Stale,
    int Ignored,
    int StillUnusable,
    int Failed,
    int AlreadyReplayed,
    int Discarded,
    int AlreadyDiscarded,
    int Gone,
    int Replaying)
{
    public override string ToString() =>
        string.Join(", ", new[]
            {
                ("processed", Processed), ("duplicate", Duplicate), ("stale", Stale), ("ignored", Ignored),
                ("still unusable", StillUnusable), ("failed", Failed), ("already replayed", AlreadyReplayed),
                ("discarded", Discarded), ("already discarded", AlreadyDiscarded), ("gone", Gone),
                ("replaying elsewhere", Replaying),
            }
            .Where(count => count.Item2 > 0)
            .Select(count => $"{count.Item1} {count.Item2}")) is { Length: > 0 } text ? text : "nothing selected";
}

/// <summary>A bulk action as the page polls it: <c>running</c> until <c>done</c> (or <c>failed</c>, with the error).</summary>
public sealed record BulkJob(
    string Id,
    string Action,
    string Selection,
    string Operator,
    string State,
    int? Total,
    int Done,
    BulkCounts Counts,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    string? Error);

/// <summary>
/// Bulk replays and discards run here, in the background, a few entries at a time, so no request stays open while
/// thousands are replayed: the action answers at once with the job, and the page polls it. A job belongs to the
/// process that runs it (the last <see cref="Kept"/> are remembered); its outcome is in the audit list, which every
/// silo shares.
/// </summary>
public sealed class QuarantineJobs(
    IQuarantine quarantine, QuarantineActions actions, OperatorAudit audit, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<QuarantineJobs> logger)
{
    public const string Replay = "replay";
    public const string Discard = "discard";
    public const int Kept = 50;

    /// <summary>Replays at once: enough to move thousands in seconds, few enough to leave the silo to the pushes.</summary>
    public const int Parallelism = 4;

    private readonly ConcurrentDictionary<string, Job> _jobs = new();

    private readonly Lock _starting = new();

    /// <summary>
    /// Starts the job, or returns the one still running: one at a time in a process, since each scans the whole
    /// quarantine and holds the ids it selected, and the jobs are for operators, not for load.
    /// </summary>
    public (BulkJob Job, bool Started) Start(string action, QuarantineSelection selection, string who)
    {
        Job job;
        lock (_starting)
        {
            if (_jobs.Values.FirstOrDefault(running => running.IsRunning) is { } running)
            {
                return (running.View(), false);
            }

            job = new Job(Guid.CreateVersion7().ToString("N"), action, selection, who, time.GetUtcNow());
            _jobs[job.Id] = job;
        }

        foreach (var old in _jobs.Values.OrderByDescending(j => j.StartedAt).Skip(Kept))
        {
            _jobs.TryRemove(old.Id, out _);
        }

        logger.LogInformation("Operator {Operator} started {Action} of {Selection} (job {JobId})", who, action, selection, job.Id);
        _ = Task.Run(() => RunAsync(job, lifetime.ApplicationStopping));
        return (job.View(), true);
    }

    public BulkJob? Get(string id) => _jobs.TryGetValue(id, out var job) ? job.View() : null;

    public IReadOnlyList<BulkJob> Recent() => _jobs.Values.OrderByDescending(job => job.StartedAt).Select(job => job.View()).ToList();

    private async Task RunAsync(Job job, CancellationToken stopping)
    {
        string? error = null;
        try
        {
            // A set: the Redis store scans by position, so an entry quarantined meanwhile can show one already scanned again.
            var ids = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var entry in quarantine.ScanAsync(stopping))
            {
                if (job.Selection.Matches(entry))
                {
                    ids.Add(entry.Id);
                }
            }

            job.Total = ids.Count;
            await Parallel.ForEachAsync(
                ids,
                new ParallelOptions { MaxDegreeOfParallelism = job.Action == Replay ? Parallelism : 1, CancellationToken = stopping },
                async (id, cancellationToken) =>
                {
                    job.Count(job.Action == Replay
                        ? (await actions.ReplayAsync(id, job.Operator, cancellationToken)).Verdict
                        : (await actions.DiscardAsync(id, job.Operator, cancellationToken)).Outcome.Verdict);
                });
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Job {JobId} ({Action} of {Selection}) stopped", job.Id, job.Action, job.Selection);
            error = $"stopped after {job.DoneCount} entries: {exception.GetType().Name}: {exception.Message}";
        }

        // In the audit list before the job shows as finished: whoever sees it finished also finds it there.
        var counts = job.View().Counts;
        await audit.RecordAsync(job.Operator, job.Action, $"{job.Total ?? 0} quarantine entries ({job.Selection})",
            error is null ? counts.ToString() : $"{counts}; {error}");
        job.Finish(time.GetUtcNow(), error);
    }

    private sealed class Job(string id, string action, QuarantineSelection selection, string who, DateTimeOffset startedAt)
    {
        private readonly int[] _counts = new int[Enum.GetValues<EntryOutcome>().Length];
        private int _done;
        private volatile string _state = "running";
        private DateTimeOffset? _finishedAt;
        private string? _error;

        public string Id => id;

        public string Action => action;

        public QuarantineSelection Selection => selection;

        public string Operator => who;

        public DateTimeOffset StartedAt => startedAt;

        public int? Total { get; set; }

        public int DoneCount => Volatile.Read(ref _done);

        public bool IsRunning => _state == "running";

        public void Count(EntryOutcome outcome)
        {
            Interlocked.Increment(ref _counts[(int)outcome]);
            Interlocked.Increment(ref _done);
        }

        public void Finish(DateTimeOffset at, string? error)
        {
            (_finishedAt, _error) = (at, error);
            _state = error is null ? "done" : "failed";
        }

        public BulkJob View()
        {
            int Read(EntryOutcome outcome) => Volatile.Read(ref _counts[(int)outcome]);
            var counts = new BulkCounts(
                Read(EntryOutcome.Processed), Read(EntryOutcome.Duplicate), Read(EntryOutcome.Stale), Read(EntryOutcome.Ignored),
                Read(EntryOutcome.StillUnusable), Read(EntryOutcome.Failed), Read(EntryOutcome.AlreadyReplayed), Read(EntryOutcome.Discarded),
                Read(EntryOutcome.AlreadyDiscarded), Read(EntryOutcome.Gone), Read(EntryOutcome.Replaying));
            return new BulkJob(id, action, selection.ToString(), who, _state, Total, DoneCount, counts, startedAt, _finishedAt, _error);
        }
    }
}
