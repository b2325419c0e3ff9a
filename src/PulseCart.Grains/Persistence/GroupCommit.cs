namespace PulseCart.Grains.Persistence;

/// <summary>
/// Sends what many callers submit at about the same moment as one batch: while a batch is on its way, new submissions
/// wait and then leave together. No thread or timer of its own and no added delay: the first submission after a quiet
/// spell is sent at once by its caller, later ones by the completion of the batch before them.
/// </summary>
public sealed class GroupCommit<TItem>(Func<IReadOnlyList<TItem>, Task> send, int maxBatch)
    where TItem : IGroupCommitItem
{
    private readonly Lock _lock = new();
    private List<TItem> _waiting = [];
    private bool _sending;

    public void Submit(TItem item)
    {
        List<TItem> batch;
        lock (_lock)
        {
            _waiting.Add(item);
            if (_sending)
            {
                return;
            }

            _sending = true;
            (batch, _waiting) = (_waiting, []);
        }

        _ = SendAllAsync(batch);
    }

    private async Task SendAllAsync(List<TItem> batch)
    {
        while (true)
        {
            for (var start = 0; start < batch.Count; start += maxBatch)
            {
                var part = batch.Count <= maxBatch ? batch : batch.GetRange(start, Math.Min(maxBatch, batch.Count - start));
                try
                {
                    // Off the scheduler of the grain whose submission started this loop: later batches, sent from
                    // here, must not queue behind that grain's turns, nor outlive its activation on its scheduler.
                    await send(part).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    // What waits behind a failed batch would meet the same dead connection after the same timeout:
                    // it fails now, unattempted, instead of adding a second timeout to a push's answer.
                    List<TItem> waiting;
                    lock (_lock)
                    {
                        (waiting, _waiting) = (_waiting, []);
                    }

                    foreach (var item in batch.Skip(start).Concat(waiting))
                    {
                        item.Fail(exception);
                    }

                    batch.Clear();
                    break;
                }
            }

            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _sending = false;
                    return;
                }

                (batch, _waiting) = (_waiting, []);
            }
        }
    }
}

/// <summary>One submission: completed by the batch's sender, or failed with the batch.</summary>
public interface IGroupCommitItem
{
    void Fail(Exception exception);
}
