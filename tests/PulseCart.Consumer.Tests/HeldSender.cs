using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Tests;

/// <summary>A sink that accepts nothing until released, then everything (after failing once, if told to).</summary>
internal sealed class HeldSender(Exception? failFirst = null) : IMessageSender
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sent;

    public Exception? FailFirst { get; set; } = failFirst;

    public string Sink => "held";

    public int Sent => Volatile.Read(ref _sent);

    public void Release() => _released.TrySetResult();

    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
    {
        await _released.Task;
        if (FailFirst is { } failure)
        {
            throw failure;
        }

        Interlocked.Increment(ref _sent);
    }
}
