using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PulseCart.Consumer.Emulators;
using PulseCart.Emulators.PubSub;
using PulseCart.Testing;

namespace PulseCart.PubSub.Tests;

/// <summary>
/// The laptop quick start as a test: the real consumer with its embedded emulators, OIDC verification on, and one
/// publish to the default topic; the emulator pushes to <c>/consumer/push</c> over real HTTP with a signed token.
/// </summary>
public sealed class ConsumerEndToEndTests
{
    [Fact]
    public async Task OrderPlacedPublishedToTheDefaultTopicSendsExactlyOneConfirmation()
    {
        await using var consumer = new EmbeddedConsumer();
        using var client = consumer.CreateClient();
        var orderId = $"o-{Guid.NewGuid():N}";
        var @event = new JsonObject
        {
            ["event_id"] = $"e-{Guid.NewGuid():N}",
            ["event_type"] = "order.placed",
            ["event_version"] = 1,
            ["occurred_at"] = DateTimeOffset.UtcNow.ToString("O"),
            ["source"] = "checkout",
            ["user_id"] = "u-42",
            ["payload"] = new JsonObject { ["order_id"] = orderId, ["cart_id"] = "c-9", ["total"] = 59.97, ["currency"] = "EUR" },
        };

        // Pushes need a token: an anonymous one is refused, so a delivered message proves the emulator's token verified.
        using var anonymous = await client.PostAsync("/consumer/push", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes(@event.ToJsonString()));
        using var published = await client.PostAsync(
            $"/emulators/pubsub/v1/{EmbeddedPubSub.Topic}:publish",
            new StringContent($$"""{"messages":[{"data":"{{data}}"}]}""", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        var messageId = (await published.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messageIds")[0].GetString();

        var attempt = await consumer.AcknowledgementAsync(messageId!);
        Assert.Equal((EmbeddedPubSub.Subscription, 204, 1), (attempt.Subscription, attempt.StatusCode, attempt.DeliveryAttempt));
        await consumer.Emulator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var sent = Assert.Single(consumer.SentMessages());
        Assert.Equal("order_confirmation", sent.GetProperty("template").GetString());
        Assert.Equal($"order_confirmation:{orderId}", sent.GetProperty("idempotency_key").GetString());
        Assert.Single(consumer.Emulator.Attempts);
        Assert.Empty(consumer.Emulator.MessagesOf(EmbeddedPubSub.DeadLetterTopic));
    }

    /// <summary>
    /// The consumer in-process on real Kestrel (the emulator pushes back over HTTP), in <c>oidc</c> mode with the local
    /// issuer's accounts allowed, and messages appended to a file the test reads back.
    /// </summary>
    private sealed class EmbeddedConsumer : WebApplicationFactory<Program>
    {
        private readonly Dictionary<string, string?> _settings;

        public EmbeddedConsumer()
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
            };
        }

        public string MessagesFile { get; }

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
}
