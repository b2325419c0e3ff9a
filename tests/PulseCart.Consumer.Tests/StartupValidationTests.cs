namespace PulseCart.Consumer.Tests;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("PulseCart:Messaging:Sink", "file", "PulseCart:Messaging:FilePath")]
    [InlineData("PulseCart:Messaging:Sink", "webhook", "PulseCart:Messaging:WebhookUrl")]
    [InlineData("PulseCart:Dedup:Window", "1.00:00:00", "PulseCart:Dedup:Window")]
    [InlineData("PulseCart:Push:MaxBodyBytes", "10", "PulseCart:Push:MaxBodyBytes")]
    [InlineData("PulseCart:Cluster:SiloPort", "70000", "PulseCart:Cluster:SiloPort")]
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
    [InlineData("PulseCart:Auth:Audience")]
    [InlineData("PulseCart:Auth:AllowedServiceAccounts")]
    public async Task ProductionRefusesToStartWithoutTheOidcSettings(string named)
    {
        await using var factory = new ConsumerFactory(new Dictionary<string, string?> { ["environment"] = "Production" });

        var failure = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(failure);
        Assert.Contains(named, Flatten(failure));
    }

    private static string Flatten(Exception exception) =>
        exception is AggregateException aggregate
            ? string.Join(" | ", aggregate.InnerExceptions.Select(Flatten))
            : exception.Message + (exception.InnerException is null ? "" : " | " + Flatten(exception.InnerException));
}
