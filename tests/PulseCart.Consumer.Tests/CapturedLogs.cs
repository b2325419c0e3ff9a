using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PulseCart.Consumer.Telemetry;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// A logger provider that keeps every formatted message and exception text or, given the <c>json</c> format's
/// formatter, every line exactly as that format writes it to stdout.
/// </summary>
public sealed class CapturedLogs(CloudLoggingFormatter? jsonFormat = null) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    private readonly CloudLoggingFormatter? _jsonFormat = jsonFormat;

    public IReadOnlyList<string> Lines => _lines.ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (owner._jsonFormat is null)
            {
                owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
                return;
            }

            var line = new StringWriter();
            owner._jsonFormat.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), null, line);
            owner._lines.Enqueue(line.ToString());
        }
    }
}
