using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PulseCart.Consumer.Emulators;
using PulseCart.Emulators.PubSub;
using PulseCart.Testing;

namespace PulseCart.PubSub.Tests.Support;

/// <summary>
/// The consumer in-process on real Kestrel (the emulator pushes back over HTTP), in <c>oidc</c> mode with the local
/// issuer's accounts allowed, and messages appended to a file the test reads back.
/// </summary>
public sealed class EmbeddedConsumer : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public EmbeddedConsumer(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var port = FreePorts.Next();
        UseKestrel(port);
        MessagesFile = Path.Combine(Directory.CreateTempSubdirectory("pulsecart-pubsub-").FullName, "messages.jsonl");
        var self = $"http://127.0.0.1:{port}";
        _settings = new Dictionary<string, string?>
        {
            ["urls"] = self,
            ["PulseCart:Messaging:Sink"] = "file",
            ["PulseCart:Messaging:FilePath"] = MessagesFile,
            ["PulseCart:Cluster:SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PulseCart:Cluster:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PulseCart:Auth:Mode"] = "oidc",
            ["PulseCart:Auth:Audience"] = $"{self}/consumer/push",
            ["PulseCart:Auth:AllowedServiceAccounts:0"] = EmbeddedPubSub.LocalServiceAccount,
            ["PulseCart:Auth:AllowedServiceAccounts:1"] = EmbeddedCloudTasks.LocalServiceAccount,
            ["Logging:LogLevel:Orleans"] = "Warning",

            // The twins' own ports, free ones: tests run side by side and a laptop may hold the defaults.
            ["PulseCart:Emulators:CloudTasks:GrpcPort"] = FreePort(),
            ["PulseCart:Emulators:CloudTasks:RestPort"] = FreePort(),
            ["PulseCart:Emulators:PubSub:GrpcPort"] = FreePort(),
            ["PulseCart:Emulators:PubSub:RestPort"] = FreePort(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    /// <summary>A contract-valid <c>order.placed</c> event with a fresh event id, as PulseCart's checkout publishes it.</summary>
    public static string OrderPlaced(string orderId) => new JsonObject
    {
        ["event_id"] = $"e-{Guid.NewGuid():N}",
        ["event_type"] = "order.placed",
        ["event_version"] = 1,
        ["occurred_at"] = DateTimeOffset.UtcNow.ToString("O"),
        ["source"] = "checkout",
        ["user_id"] = "u-42",
        ["payload"] = new JsonObject { ["order_id"] = orderId, ["cart_id"] = "c-9", ["total"] = 59.97, ["currency"] = "EUR" },
    }.ToJsonString();

    /// <summary>The URL the consumer listens on.</summary>
    public string SelfUrl => _settings["urls"]!;

    /// <summary>A setting the consumer runs with, such as a twin's port.</summary>
    public string? Setting(string key) => _settings.GetValueOrDefault(key);

    public string MessagesFile { get; }

    private static string FreePort() => FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);

    public PubSubEmulator Emulator => Services.GetRequiredService<PubSubEmulator>();

    public IReadOnlyList<JsonElement> SentMessages()
    {
        if (!File.Exists(MessagesFile))
        {
            return [];
        }

        using var stream = new FileStream(MessagesFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return [.. reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];
    }

    /// <summary>The push of <paramref name="messageId"/> that was acknowledged, waiting up to 20 s of real time.</summary>
    public async Task<PushAttempt> AcknowledgementAsync(string messageId)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
        while (DateTimeOffset.UtcNow < deadline)
        {
            var attempts = Emulator.Attempts.Where(attempt => attempt.MessageId == messageId).ToList();
            if (attempts.FirstOrDefault(attempt => attempt.Outcome != PushAttemptOutcome.Acknowledged) is { } failed)
            {
                Assert.Fail($"Push {failed.DeliveryAttempt} of {messageId} was not acknowledged: {failed.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? failed.Error}");
            }

            if (attempts.Count > 0)
            {
                return attempts[0];
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Message {messageId} was not pushed within 20 s.");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
