namespace PulseCart.Consumer.Pause;

/// <summary>Without Redis: the switch lives as long as the process (and so do the embedded twins it acts on).</summary>
public sealed class InMemoryPauseStore : IPauseStore
{
    private readonly Lock _lock = new();
    private PauseState? _state;
    private string? _pushConfig;

    public Task<PauseState?> GetAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_state is null ? null : _state with { SavedPushConfig = _pushConfig });
        }
    }

    public Task<PauseState> StartAsync(PauseState state, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _state ??= state;
            return Task.FromResult(_state with { SavedPushConfig = _pushConfig });
        }
    }

    public Task SaveAsync(PauseState state, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _state = state;
        }

        return Task.CompletedTask;
    }

    public Task<string> KeepPushConfigAsync(string pushConfig, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _pushConfig ??= pushConfig;
            return Task.FromResult(_pushConfig);
        }
    }

    public Task ClearAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _state = null;
            _pushConfig = null;
        }

        return Task.CompletedTask;
    }
}
