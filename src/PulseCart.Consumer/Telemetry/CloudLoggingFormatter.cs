using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace PulseCart.Consumer.Telemetry;

public sealed class CloudLoggingFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>The project traces belong to; with it, entries link to their trace in Cloud Trace.</summary>
    public string? ProjectId { get; set; }
}

/// <summary>
/// One JSON object per line in the shape Cloud Logging reads from stdout: <c>severity</c>, <c>message</c>,
/// <c>time</c>, the structured fields (<c>event_id</c>, <c>cart_id</c>, <c>order_id</c>, …) and, inside a traced
/// request, <c>logging.googleapis.com/trace</c> and <c>spanId</c>.
/// </summary>
public sealed class CloudLoggingFormatter(IOptionsMonitor<CloudLoggingFormatterOptions> options) : ConsoleFormatter(Name)
{
    public new const string Name = "cloud-logging";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("severity", Severity(logEntry.LogLevel));
            json.WriteString("message", logEntry.Exception is null ? message : $"{message}\n{logEntry.Exception}");
            json.WriteString("time", DateTimeOffset.UtcNow.ToString("O"));
            json.WriteString("logger", logEntry.Category);
            if (logEntry.State is IEnumerable<KeyValuePair<string, object?>> fields)
            {
                foreach (var (key, value) in fields)
                {
                    if (key != "{OriginalFormat}" && value is not null)
                    {
                        json.WriteString(JsonNamingPolicy.SnakeCaseLower.ConvertName(key), Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                    }
                }
            }

            if (Activity.Current is { } activity && options.CurrentValue.ProjectId is { Length: > 0 } project)
            {
                json.WriteString("logging.googleapis.com/trace", $"projects/{project}/traces/{activity.TraceId}");
                json.WriteString("logging.googleapis.com/spanId", activity.SpanId.ToString());
                json.WriteBoolean("logging.googleapis.com/trace_sampled", activity.Recorded);
            }

            json.WriteEndObject();
        }

        textWriter.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static string Severity(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "CRITICAL",
        _ => "DEFAULT",
    };
}
