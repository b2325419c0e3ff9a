using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Telemetry;

using PulseCart.Testing;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The OpenTelemetry SDK listens to meters by name across the whole process, so while another test class's consumer is
/// alive its instruments show on this host's /metrics too (a quarantine gauge of 0 from a neighbour once hid ours).
/// These tests therefore run alone, after the parallel ones, and can assert exact counts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneInTheProcess
{
    public const string Name = "Only consumer host in the process";
}

[Collection(AloneInTheProcess.Name)]
public sealed class TelemetryTests(ConsumerFixture fixture) : IClassFixture<ConsumerFixture>
{
    [Fact]
    public async Task MetricsShowTheDomainInstrumentsMovingUnderPushes()
    {
        for (var i = 0; i < 3; i++)
        {
            var placed = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-metrics");
            await fixture.Client.PushAsync(placed);
            await fixture.Client.PushAsync(placed);
        }

        await fixture.Client.SendAsync(Push.EnvelopeOfData("###"));

        // The exporter caches a scrape briefly, so read until the quarantined push shows (or give up after 5 s and assert).
        const string quarantineHoldsOne = """pulsecart_quarantine_size\{[^}]*\} 1\s""";
        var metrics = "";
        for (var attempt = 0; attempt < 25 && !Regex.IsMatch(metrics, quarantineHoldsOne); attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 200);
            metrics = await fixture.Client.GetStringAsync("/metrics");
        }

        Assert.Matches("""pulsecart_push_received_total\{[^}]*event_type="order.placed"[^}]*outcome="processed"[^}]*\} 3\s""", metrics);
        Assert.Matches("""pulsecart_push_received_total\{[^}]*event_type="order.placed"[^}]*outcome="duplicate"[^}]*\} 3\s""", metrics);
        Assert.Matches("""pulsecart_push_received_total\{[^}]*event_type="unknown"[^}]*outcome="quarantined"[^}]*\} 1\s""", metrics);
        Assert.Matches("""pulsecart_messages_sent_total\{[^}]*sink="file"[^}]*template="order_confirmation"[^}]*\} 3\s""", metrics);
        Assert.Matches(quarantineHoldsOne, metrics);
        Assert.Contains("orleans_", metrics);
        Assert.Contains("http_server_request_duration_seconds", metrics);
    }

    [Fact]
    public void JsonLogLinesCarrySeverityFieldsAndTheTrace()
    {
        var formatter = new CloudLoggingFormatter(new FixedOptions(new CloudLoggingFormatterOptions { ProjectId = "pulsecart-prod" }));
        using var activity = new Activity("push").Start();
        var state = new Dictionary<string, object?>
        {
            ["EventId"] = "e-1",
            ["CartId"] = "c-9",
            ["{OriginalFormat}"] = "Cart {CartId}: abandoned by {EventId}",
        }.ToList();
        var output = new StringWriter();

        formatter.Write(
            new LogEntry<List<KeyValuePair<string, object?>>>(LogLevel.Warning, "PulseCart.Grains.Carts.CartGrain", default, state, null, (_, _) => "Cart c-9: abandoned by e-1"),
            null,
            output);

        var line = JsonDocument.Parse(output.ToString()).RootElement;
        Assert.Equal("WARNING", line.GetProperty("severity").GetString());
        Assert.Equal("Cart c-9: abandoned by e-1", line.GetProperty("message").GetString());
        Assert.Equal("e-1", line.GetProperty("event_id").GetString());
        Assert.Equal("c-9", line.GetProperty("cart_id").GetString());
        Assert.True(line.GetProperty("time").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal($"projects/pulsecart-prod/traces/{activity.TraceId}", line.GetProperty("logging.googleapis.com/trace").GetString());
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData(TelemetryHosting.LinkTracesSetting, "true", true)]
    [InlineData("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "Information", true)] // request logs asked for
    public async Task APushsLogLinesLinkToTheCallersTraceOnlyWhenAsked(string? setting, string? value, bool linked)
    {
        var logs = new CapturedLogs(new CloudLoggingFormatter(new FixedOptions(new CloudLoggingFormatterOptions { ProjectId = "pulsecart-prod" })));
        var settings = new Dictionary<string, string?>();
        if (setting is not null)
        {
            settings[setting] = value;
        }

        await using var consumer = new ConsumerFactory(settings, services: services => services.AddSingleton<ILoggerProvider>(logs));
        using var client = consumer.CreateClient();
        var traceId = ActivityTraceId.CreateRandom();

        // Unusable data, so that the push is quarantined and the consumer logs a warning while answering it.
        using var push = new HttpRequestMessage(HttpMethod.Post, "/consumer/push")
        {
            Content = new StringContent("""{"message":{"data":"%%%","messageId":"m-trace"}}""", Encoding.UTF8, "application/json"),
        };
        push.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        var response = await client.SendAsync(push);

        Assert.Equal("quarantined", response.Outcome());
        var warning = logs.Lines
            .Where(line => line.Length > 0)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Single(line => line.GetProperty("message").GetString()!.StartsWith("Quarantined message m-trace", StringComparison.Ordinal));
        if (linked)
        {
            Assert.Equal($"projects/pulsecart-prod/traces/{traceId}", warning.GetProperty("logging.googleapis.com/trace").GetString());
        }
        else
        {
            Assert.False(warning.TryGetProperty("logging.googleapis.com/trace", out _));
        }
    }

    private sealed class FixedOptions(CloudLoggingFormatterOptions value) : IOptionsMonitor<CloudLoggingFormatterOptions>
    {
        public CloudLoggingFormatterOptions CurrentValue => value;

        public CloudLoggingFormatterOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<CloudLoggingFormatterOptions, string?> listener) => null;
    }
}

/// <summary>A consumer of its own, so alone in the process like the fixture above (metrics are per process).</summary>
[Collection(AloneInTheProcess.Name)]
public sealed class MetricsDuringARedisHangTests
{
    [Fact]
    public async Task MetricsAnswerPromptlyWhileTheQuarantinesRedisHangs()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.ConnectionString });
        using var client = consumer.CreateClient();
        // The first figures: a scrape waits half a second for them, and a busy machine's first Redis round trip (a new
        // connection, code not yet compiled) can take longer; the next scrape then has them.
        var first = Stopwatch.StartNew();
        while (!(await client.GetStringAsync("/metrics")).Contains("pulsecart_quarantine_size") && first.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        Assert.Contains("pulsecart_quarantine_size", await client.GetStringAsync("/metrics"));

        redis.Hang(true);
        try
        {
            // Past the exporter's brief cache and the figures' age, scrapes a few seconds apart as Prometheus makes them.
            for (var scrape = 0; scrape < 3; scrape++)
            {
                await Task.Delay(TimeSpan.FromSeconds(2.5));
                var clock = Stopwatch.StartNew();
                var metrics = await client.GetStringAsync("/metrics");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"scrape {scrape} took {clock.Elapsed.TotalSeconds:0.0} s");
                Assert.Contains("pulsecart_quarantine_size", metrics);
            }
        }
        finally
        {
            redis.Hang(false);
        }
    }
}
