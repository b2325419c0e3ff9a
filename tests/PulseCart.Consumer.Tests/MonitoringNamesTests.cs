using System.Text.RegularExpressions;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The alerts and dashboards in deploy/ read the consumer's metrics by their Prometheus names: every name they use must
/// be one /metrics serves, or an alert would wait silently for a series that never comes. Alone in the process, like
/// TelemetryTests: a neighbouring host's meters would show on, or go missing from, this one's /metrics.
/// </summary>
[Collection(AloneInTheProcess.Name)]
public sealed partial class MonitoringNamesTests(ConsumerFixture fixture) : IClassFixture<ConsumerFixture>
{
    /// <summary>Not the consumer's: the log-based metrics deploy/gcp.sh creates in Cloud Logging.</summary>
    private static readonly string[] NotServedHere = ["pulsecart_quarantined", "pulsecart_reminders_dead_lettered"];

    [Fact]
    public async Task EveryConsumerMetricTheDeployAlertsAndDashboardsUseIsServedAtMetrics()
    {
        var used = MonitoringFiles().SelectMany(file => MetricName().Matches(File.ReadAllText(file)).Select(match => match.Value))
            .Where(name => !NotServedHere.Contains(name))
            .ToHashSet();
        Assert.Contains("pulsecart_push_received_total", used);
        Assert.Contains("pulsecart_push_duration_seconds_bucket", used);
        Assert.Contains("pulsecart_pause_active", used);

        await fixture.Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o-names"), "u-1"));
        await fixture.Client.PushAsync(Push.CartAbandoned(Push.NewId("e"), Push.NewId("c-names"), "u-1", DateTimeOffset.UtcNow));
        await fixture.Client.SendAsync(Push.EnvelopeOfData("%% names %%"));
        var metrics = "";
        for (var attempt = 0; attempt < 25 && used.Any(name => !Serves(metrics, name)); attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 200);
            metrics = await fixture.Client.GetStringAsync("/metrics");
        }

        var missing = used.Where(name => !Serves(metrics, name)).ToList();
        Assert.True(missing.Count == 0, $"used by deploy/ but not served at /metrics: {string.Join(", ", missing)}\n{string.Join("\n", metrics.Split('\n').Where(line => line.StartsWith("pulsecart")))}");
    }

    [Fact]
    public async Task PauseGaugeIsOneWhilePausedAndZeroOtherwise()
    {
        Assert.Equal("0", await PauseGaugeAsync("0"));
        try
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await fixture.Client.PostAsync("/ops/pause", null)).StatusCode);
            Assert.Equal("1", await PauseGaugeAsync("1"));
        }
        finally
        {
            await fixture.Client.PostAsync("/ops/resume", null);
        }

        Assert.Equal("0", await PauseGaugeAsync("0"));
    }

    /// <summary>The gauge's value at /metrics once it reads <paramref name="expected"/>, or after 5 s whatever it reads.</summary>
    private async Task<string?> PauseGaugeAsync(string expected)
    {
        string? value = null;
        for (var attempt = 0; attempt < 25 && value != expected; attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 200);
            var match = Regex.Match(await fixture.Client.GetStringAsync("/metrics"), @"^pulsecart_pause_active(?:\{[^}]*\})? (\S+)", RegexOptions.Multiline);
            value = match.Success ? match.Groups[1].Value : null;
        }

        return value;
    }

    private static bool Serves(string metrics, string name) => Regex.IsMatch(metrics, $@"^{name}[{{ ]", RegexOptions.Multiline);

    private static IEnumerable<string> MonitoringFiles()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "PulseCart.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var files = Directory.EnumerateFiles(Path.Combine(root.FullName, "deploy", "gke", "monitoring"))
            .Concat(Directory.EnumerateFiles(Path.Combine(root.FullName, "deploy", "monitoring"), "*.json", SearchOption.AllDirectories))
            .ToList();
        Assert.True(files.Count >= 9, $"monitoring files found: {files.Count}");
        return files;
    }

    // Not part of another name: logging_googleapis_com:user_pulsecart_… is a log-based metric of Cloud Monitoring's.
    [GeneratedRegex("(?<![A-Za-z0-9_:])pulsecart_[a-z_]+")]
    private static partial Regex MetricName();
}
