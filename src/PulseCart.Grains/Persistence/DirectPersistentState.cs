using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization.Activators;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace PulseCart.Grains.Persistence;

/// <summary>
/// Builds the <c>[PersistentState]</c> of states kept in <see cref="GrainStorage.Name"/> as a
/// <see cref="DirectPersistentState{TState}"/>; every other storage gets Orleans' own.
/// </summary>
public sealed class DirectPersistentStateFactory(IActivatorProvider activators) : IPersistentStateFactory
{
    private readonly PersistentStateFactory _orleans = new();

    // One activator per state type, as Orleans' own bridge keeps: looking one up builds a generic type by reflection.
    private readonly ConcurrentDictionary<Type, object> _activators = new();

    public IPersistentState<TState> Create<TState>(IGrainContext context, IPersistentStateConfiguration config)
    {
        if (config.StorageName != GrainStorage.Name)
        {
            return _orleans.Create<TState>(context, config);
        }

        var activator = (IActivator<TState>)_activators.GetOrAdd(
            typeof(TState), static (_, provider) => provider.GetActivator<TState>(), activators);
        return new DirectPersistentState<TState>(
            config.StateName,
            context,
            context.ActivationServices.GetRequiredKeyedService<IGrainStorage>(config.StorageName),
            activator.Create());
    }
}

public static class PersistentStateActivation
{
    /// <summary>
    /// What a grain's <c>OnActivateAsync</c> calls: reads a <see cref="DirectPersistentState{TState}"/>, which no lifecycle
    /// reads. State from Orleans' own factory (another storage, or <c>bench/StateProbe</c>'s comparison) was read already.
    /// </summary>
    public static Task ReadOnActivationAsync<TState>(this IPersistentState<TState> state) =>
        state is DirectPersistentState<TState> ? state.ReadStateAsync() : Task.CompletedTask;
}

/// <summary>
/// A grain's persistent state that calls its <see cref="IGrainStorage"/> directly. Orleans' own (10.4) first yields to the
/// grain's scheduler on every read and write, queues each operation behind the last one, and records a span and a
/// histogram for it: one more scheduler hop and about 0.8 KB per event on the busiest path. Here an operation starts at
/// once; one asked for while another is still running waits for it, so they still reach storage one at a time and in
/// order. Storage errors reach the grain as they were thrown.
/// </summary>
/// <remarks>
/// The grain reads the state in its <c>OnActivateAsync</c>
/// (<see cref="PersistentStateActivation.ReadOnActivationAsync{TState}"/>), where Orleans' own reads it in the grain's
/// lifecycle: a grain with nothing in its lifecycle activates and deactivates without running one (grouping and sorting
/// its stages, a state machine per stage), which cost 4-9 % of the CPU of a unique <c>order.placed</c>, two activations
/// each (README, Performance). A write or clear before any read fails, so a grain that forgets the read fails on its
/// first write, not only where storage already holds a record (whose version check refuses it). After a migration the
/// new activation reads again (every change is written before a delivery is acknowledged, so storage has it all).
/// </remarks>
internal sealed class DirectPersistentState<TState> : IPersistentState<TState>, IGrainState<TState>
{
    private readonly string _name;
    private readonly IGrainContext _grain;
    private readonly IGrainStorage _storage;
    private Task? _running;
    private int _unfinished;
    private bool _readAskedFor;

    public DirectPersistentState(string name, IGrainContext grain, IGrainStorage storage, TState initial)
    {
        (_name, _grain, _storage, State) = (name, grain, storage, initial);
    }

    public TState State { get; set; }

    TState? IGrainState<TState>.State { get => State; set => State = value!; }

    public string? Etag => ETag;

    public string? ETag { get; set; }

    public bool RecordExists { get; set; }

    public Task ReadStateAsync()
    {
        _readAskedFor = true;
        return Run(static self => self._storage.ReadStateAsync(self._name, self._grain.GrainId, self));
    }

    public Task WriteStateAsync() => _readAskedFor
        ? Run(static self => self._storage.WriteStateAsync(self._name, self._grain.GrainId, self))
        : NotReadYet();

    public Task ClearStateAsync() => _readAskedFor
        ? Run(static self => self._storage.ClearStateAsync(self._name, self._grain.GrainId, self))
        : NotReadYet();

    private Task NotReadYet() => Task.FromException(new InvalidOperationException(
        $"State '{_name}' of {_grain.GrainId} was never read; read it in the grain's OnActivateAsync before writing it."));

    // Grain code runs one turn at a time, and OperationEnded runs on the grain's scheduler too, so these fields need no lock.
    private Task Run(Func<DirectPersistentState<TState>, Task> operation)
    {
        _unfinished++;
        var task = _running is { IsCompleted: false } before ? After(before, operation) : operation(this);
        _running = task.IsCompleted ? null : task; // nothing needs to wait for one that finished at once
        return task;
    }

    /// <summary>
    /// Called by <see cref="PulseCartGrainStorage"/> once per read, write or clear, after its last store access and after it
    /// has set the state and version. When none is left unfinished, the last one's task is let go: kept, it held the
    /// storage's state machine until this state's next operation (for an idle grain, its whole life), so each collection
    /// found one per recently written grain alive and carried it into an older generation. A storage that never calls it
    /// leaves the task kept, as before: operations still follow one another, only that memory stays.
    /// </summary>
    internal void OperationEnded()
    {
        if (--_unfinished == 0)
        {
            _running = null;
        }
    }

    private async Task After(Task before, Func<DirectPersistentState<TState>, Task> operation)
    {
        // Back on the grain's scheduler, where the storage finds the activation to drop if this write fails.
        await before.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        await operation(this);
    }
}
