namespace PulseCart.Grains.Persistence;

internal static class StateWriter
{
    /// <summary>
    /// Writes grain state; when the write fails the in-memory state claims more than storage holds,
    /// so the activation is dropped and the retried delivery starts again from what storage has.
    /// </summary>
    public static async Task WriteOrDeactivateAsync<TState>(this IPersistentState<TState> state, Grain grain)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            grain.DeactivateOnIdle();
            throw;
        }
    }
}
