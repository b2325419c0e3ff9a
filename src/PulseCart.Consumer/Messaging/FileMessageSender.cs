using System.Text.Json;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Messaging;

/// <summary>
/// Appends one JSON object per line. Each line is flushed to the operating system before the send counts,
/// so a killed process loses no acknowledged message.
/// </summary>
public sealed class FileMessageSender : IMessageSender, IAsyncDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _path;
    private FileStream? _stream;

    public FileMessageSender(IOptions<MessagingOptions> options)
    {
        _path = Path.GetFullPath(options.Value.FilePath!);
    }

    public string Sink => "file";

    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(message, PulseCartJsonContext.Default.OutboundMessage);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var stream = _stream ??= Open();
            await stream.WriteAsync(line, cancellationToken);
            await stream.WriteAsync(NewLine, cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Drop the handle so the next attempt reopens the file (it may have been rotated or remounted).
            _stream?.Dispose();
            _stream = null;
            throw new MessageSendException($"could not append {message.IdempotencyKey} to {_path}: {exception.Message}", exception);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }

        _gate.Dispose();
    }

    private FileStream Open()
    {
        var directory = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        return new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 4096, useAsync: true);
    }
}
