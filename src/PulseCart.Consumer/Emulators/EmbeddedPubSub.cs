using PulseCart.Emulators.PubSub;
using PulseCart.Google.PubSub;

namespace PulseCart.Consumer.Emulators;

/// <summary>
/// With no <c>PulseCart:PubSub:ProjectId</c> the consumer serves a Pub/Sub emulator itself, with a topic and a push
/// subscription that deliver to its own <c>/consumer/push</c> over real HTTP, signed by the same local OIDC issuer as the
/// Cloud Tasks emulator's callbacks. Publishing to the topic on a laptop then exercises the whole push path.
/// </summary>
public static class EmbeddedPubSub
{
    public const string ProjectIdSetting = "PulseCart:PubSub:ProjectId";
    public const string LocalProject = "pulsecart-local";
    public const string Topic = $"projects/{LocalProject}/topics/pulsecart-events";
    public const string DeadLetterTopic = $"projects/{LocalProject}/topics/pulsecart-events-dead-letter";
    public const string Subscription = $"projects/{LocalProject}/subscriptions/pulsecart-consumer";
    public const string LocalServiceAccount = "pulsecart-pusher@pulsecart-local.iam.gserviceaccount.com";

    public static bool IsEmbedded(IConfiguration configuration) => string.IsNullOrWhiteSpace(configuration[ProjectIdSetting]);

    public static void AddPubSub(WebApplicationBuilder builder, string selfUrl)
    {
        if (!IsEmbedded(builder.Configuration))
        {
            return;
        }

        const string Emulator = PubSubEmulatorOptions.Section;
        const string Subscribed = $"{Emulator}:Subscriptions:0";
        var pushUrl = $"{selfUrl}/consumer/push";

        // Defaults only: anything configured explicitly wins. The subscription is shaped like deploy/'s production one;
        // production allows 60 s and 10 attempts, the smaller numbers here show a slow or failing consumer sooner.
        // PulseCart:Auth:JwksUri is left alone: the embedded Cloud Tasks wiring points it at the local issuer, and
        // pointing it there from here would reject Google's own tokens wherever Cloud Tasks is real.
        EmbeddedEmulator.SetDefaults(builder.Configuration, new Dictionary<string, string?>
        {
            [$"{Emulator}:Topics:0"] = Topic,
            [$"{Emulator}:Topics:1"] = DeadLetterTopic,
            [$"{Subscribed}:Name"] = Subscription,
            [$"{Subscribed}:Topic"] = Topic,
            [$"{Subscribed}:PushEndpoint"] = pushUrl,
            [$"{Subscribed}:OidcToken:ServiceAccountEmail"] = LocalServiceAccount,
            [$"{Subscribed}:OidcToken:Audience"] = pushUrl,
            [$"{Subscribed}:AckDeadlineSeconds"] = "30",
            [$"{Subscribed}:RetryPolicy:MinimumBackoff"] = "00:00:10",
            [$"{Subscribed}:RetryPolicy:MaximumBackoff"] = "00:10:00",
            [$"{Subscribed}:DeadLetterPolicy:DeadLetterTopic"] = DeadLetterTopic,
            [$"{Subscribed}:DeadLetterPolicy:MaxDeliveryAttempts"] = "5",

            // The consumer's own Pub/Sub client (the pause switch) administers that subscription on the twin.
            [$"{PubSubOptions.Section}:BaseUrl"] = $"{selfUrl}/emulators/pubsub",
            [$"{PubSubOptions.Section}:Subscription"] = Subscription,
        });

        builder.Services.AddPubSubEmulator();
        EmbeddedEmulator.AddOwnPorts(builder.Services);
    }

    /// <summary>
    /// Serves the emulator's API to this machine only (nobody else may make the consumer push to itself); its JWKS and
    /// discovery document, being public keys, to anyone.
    /// </summary>
    public static WebApplication MapEmbeddedPubSub(this WebApplication app)
    {
        if (app.Services.GetService<PubSubEmulator>() is null)
        {
            return app;
        }

        app.MapPubSubEmulator().AddEndpointFilter(EmbeddedEmulator.LoopbackOnly("Pub/Sub"));
        return app;
    }
}
