using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace PulseCart.Consumer.Tests;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("PulseCart:Messaging:Sink", "file", "PulseCart:Messaging:FilePath")]
    [InlineData("PulseCart:Messaging:Sink", "webhook", "PulseCart:Messaging:WebhookUrl")]
    [InlineData("PulseCart:Dedup:Window", "1.00:00:00", "PulseCart:Dedup:Window")]
    [InlineData("PulseCart:Push:MaxBodyBytes", "10", "PulseCart:Push:MaxBodyBytes")]
    [InlineData("PulseCart:Cluster:SiloPort", "70000", "PulseCart:Cluster:SiloPort")]
    [InlineData("PulseCart:Redis", "localhost:abc", "PulseCart:Redis")]
    [InlineData("PulseCart:Cluster:ShedActivationsAbovePercent", "99", "PulseCart:Cluster:ShedActivationsAbovePercent")]
    [InlineData("PulseCart:Messaging:Sink", "carrier-pigeon", "PulseCart:Messaging:Sink")]
    public async Task InvalidSettingStopsStartupNamingTheSetting(string key, string value, string named)
    {
        await using var factory = new ConsumerFactory(new Dictionary<string, string?>
        {
            [key] = value,
            ["PulseCart:Messaging:FilePath"] = key == "PulseCart:Messaging:Sink" ? null : Path.GetTempFileName(),
        });

        var failure = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(failure);
        Assert.Contains(named, Flatten(failure));
    }

    [Theory]
    [InlineData(null, true, 80, 70)]
    [InlineData("60", true, 60, 50)]
    [InlineData("0", false, 0, 0)]
    public async Task TheSiloShedsIdleActivationsUnderMemoryPressureAsConfigured(string? percent, bool sheds, int limit, int target)
    {
        await using var factory = new ConsumerFactory(percent is null
            ? []
            : new Dictionary<string, string?> { ["PulseCart:Cluster:ShedActivationsAbovePercent"] = percent });
        factory.CreateClient();

        var collection = factory.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value;

        Assert.Equal(sheds, collection.EnableActivationSheddingOnMemoryPressure);
        if (sheds)
        {
            Assert.Equal(limit, collection.MemoryUsageLimitPercentage);
            Assert.Equal(target, collection.MemoryUsageTargetPercentage);
        }
    }

    [Theory]
    [InlineData("PulseCart:Auth:Audience")]
    [InlineData("PulseCart:Auth:AllowedServiceAccounts")]
    public async Task ProductionRefusesToStartWithoutTheOidcSettings(string named)
    {
        await using var factory = new ConsumerFactory(new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["PulseCart:Emulators:Enabled"] = "true",
        });

        var failure = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(failure);
        Assert.Contains(named, Flatten(failure));
    }

    [Fact]
    public async Task ProductionWithoutAQueueRefusesToStartRatherThanKeepRemindersInMemory()
    {
        await using var factory = new ConsumerFactory(new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["PulseCart:Auth:Mode"] = "none",
        });

        var failure = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(failure);
        Assert.Contains("PulseCart:CloudTasks:ProjectId", Flatten(failure));
        Assert.Contains("PulseCart:Emulators:Enabled=true", Flatten(failure));
    }

    [Theory]
    [InlineData("PulseCart:Reminders:Delay", "30.00:00:00", "Cloud Tasks' limit")]
    [InlineData("PulseCart:Events:ClockSkew", "1.00:00:00", "Cloud Tasks' limit")]
    [InlineData("PulseCart:Events:MaxAge", "9.00:00:00", "PulseCart:Dedup:Window")]
    public async Task BoundsThatWouldLetAnEventFailLaterStopTheAppAtStart(string setting, string value, string named)
    {
        await using var factory = new ConsumerFactory(new Dictionary<string, string?>
        {
            [setting] = value,
            ["PulseCart:Reminders:Delay"] = setting == "PulseCart:Reminders:Delay" ? value : "29.00:00:00",
        });

        var failure = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(failure);
        Assert.Contains(named, Flatten(failure));
    }

    private static string Flatten(Exception exception) =>
        exception is AggregateException aggregate
            ? string.Join(" | ", aggregate.InnerExceptions.Select(Flatten))
            : exception.Message + (exception.InnerException is null ? "" : " | " + Flatten(exception.InnerException));
}
