namespace PulseCart.Consumer.Hosting;

/// <summary>
/// Orleans' working set of recently used grains, without its scan. Orleans' own (10.4) visits every activation every
/// 5 s, under the activation's lock, to tell the ones used in the last 10-15 s; with a few hundred thousand carts and
/// orders in memory that took 5 % of the CPU under unique events. What the silo needs from it is the news it passes
/// on: the collector schedules a new grain's collection when it is added and cancels it when the grain deactivates
/// (and reschedules a grain it finds busy, so no live grain falls out of its schedule; Orleans' set also checked that
/// on every eviction).
/// <see cref="Count"/> is then every activation, not only the recently used ones, and only close: Orleans also reports a
/// grain that failed to activate as deactivated, without having added it, so it can read low after such failures. It
/// is read only by activation-count placement (PulseCart keeps Orleans' default, resource-optimized) and the silo's
/// runtime statistics.
/// What is given up: Orleans' request monitor walks its own working set every 5 s to send the caller of a request
/// running past 20 s a status from the grain, which Orleans then adds to the caller's timeout message. That set is now
/// empty, so a grain call that times out (30 s) is reported without it. Every call PulseCart's grains make out (Redis,
/// Cloud Tasks, the message sink) has a timeout of its own well below that.
/// </summary>
internal sealed class UnscannedWorkingSet(IEnumerable<IActivationWorkingSetObserver> observers) : IActivationWorkingSet
{
    private readonly IActivationWorkingSetObserver[] _observers = observers.ToArray();
    private int _count;

    public int Count => Math.Max(0, Volatile.Read(ref _count));

    public void OnActivated(IActivationWorkingSetMember member)
    {
        Interlocked.Increment(ref _count);
        foreach (var observer in _observers)
        {
            observer.OnAdded(member);
        }
    }

    public void OnActive(IActivationWorkingSetMember member)
    {
        foreach (var observer in _observers)
        {
            observer.OnActive(member);
        }
    }

    public void OnDeactivating(IActivationWorkingSetMember member)
    {
        // What the scan would have found by now (idle for more than 10 s or not): Orleans reports the shutdown as a
        // collection or as a deactivation on idle by it.
        member.IsCandidateForRemoval(wouldRemove: true);
        foreach (var observer in _observers)
        {
            observer.OnDeactivating(member);
        }
    }

    public void OnDeactivated(IActivationWorkingSetMember member)
    {
        Interlocked.Decrement(ref _count);
        foreach (var observer in _observers)
        {
            observer.OnDeactivated(member);
        }
    }
}
