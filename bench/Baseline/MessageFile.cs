using System.Text.Json;
using System.Text.Json.Serialization;

namespace PulseCart.Bench.Baseline;

/// <summary>The line the consumer's file sink writes (src/PulseCart.Consumer/Messaging/FileMessageSender.cs).</summary>
public sealed record SeedMessage(
    string IdempotencyKey,
    string Template,
    string UserId,
    string EventId,
    string? OrderId,
    string? CartId,
    decimal? Total,
    string? Currency,
    DateTimeOffset SentAt);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SeedMessage))]
internal sealed partial class SeedJsonContext : JsonSerializerContext;

/// <summary>
/// Appends one JSON line per message and flushes it before the send counts, one writer at a time: the same cost
/// the consumer's file sink pays, so the comparison measures the designs and not two different sinks.
/// </summary>
public sealed class MessageFile(string path) : IAsyncDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly FileStream _stream = Open(path);

    public async Task AppendAsync(SeedMessage message)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(message, SeedJsonContext.Default.SeedMessage);
        await _gate.WaitAsync();
        try
        {
            await _stream.WriteAsync(line);
            await _stream.WriteAsync(NewLine);
            await _stream.FlushAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _gate.Dispose();
    }

    private static FileStream Open(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 4096, useAsync: true);
    }
}
