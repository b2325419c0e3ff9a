using System.ComponentModel.DataAnnotations;
using PulseCart.Emulators.Hosting;

namespace PulseCart.Emulators.PubSub;

/// <summary>
/// The embedded Pub/Sub emulator (<c>PulseCart:Emulators:PubSub</c>): the topics and push subscriptions that exist at
/// start (more can be created over its REST API), and its limits. Everything lives in memory and is gone on restart.
/// </summary>
public sealed class PubSubEmulatorOptions : IValidatableObject
{
    public const string Section = "PulseCart:Emulators:PubSub";

    /// <summary>
    /// Where the REST API is mapped on the host's own port; clients use <c>{host}{PathPrefix}</c> as their Pub/Sub base URL.
    /// Empty maps it at the root (<c>/v1/…</c>).
    /// </summary>
    public string PathPrefix { get; set; } = "/emulators/pubsub";

    /// <summary>
    /// The twin's own gRPC port (HTTP/2 without TLS) on <c>PulseCart:Emulators:ListenAddress</c>: what
    /// <c>PUBSUB_EMULATOR_HOST</c> points at. 0 turns it off.
    /// </summary>
    public int GrpcPort { get; set; } = DefaultGrpcPort;

    /// <summary>The twin's own REST port (HTTP/1.1, the API at the root); 0 turns it off.</summary>
    public int RestPort { get; set; } = DefaultRestPort;

    /// <summary>Google's Pub/Sub emulator's port, the default every official client's <c>PUBSUB_EMULATOR_HOST</c> recipe uses.</summary>
    public const int DefaultGrpcPort = 8085;

    public const int DefaultRestPort = 8086;

    /// <summary>Topics created at start, as full names <c>projects/P/topics/T</c>.</summary>
    public List<string> Topics { get; set; } = [];

    /// <summary>Push subscriptions created at start, after the topics.</summary>
    public List<EmulatedSubscription> Subscriptions { get; set; } = [];

    /// <summary>
    /// How many published messages each topic keeps for <c>GET …/topics/T/messages</c>, newest kept. This is what makes
    /// a dead-letter topic's contents listable without a pull subscription.
    /// </summary>
    public int RetainedMessagesPerTopic { get; set; } = 1000;

    /// <summary>And at most this many bytes of message data per topic, so that large messages keep the listing small.</summary>
    public int RetainedBytesPerTopic { get; set; } = 16 * 1024 * 1024;

    /// <summary>At most this many pushes per subscription wait for their endpoint at once (Pub/Sub's push flow control).</summary>
    public int MaxOutstandingPushesPerSubscription { get; set; } = 100;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (EmulatorListeners.PathPrefixProblem(PathPrefix) is { } prefixProblem)
        {
            yield return new ValidationResult($"{Section}:PathPrefix {prefixProblem}", [nameof(PathPrefix)]);
        }

        foreach (var (name, port) in new[] { (nameof(GrpcPort), GrpcPort), (nameof(RestPort), RestPort) })
        {
            if (port is < 0 or > 65535)
            {
                yield return new ValidationResult($"{Section}:{name} must be a TCP port (1-65535), or 0 for none.", [name]);
            }
        }

        if (RetainedMessagesPerTopic is < 0 or > 100_000)
        {
            yield return new ValidationResult($"{Section}:RetainedMessagesPerTopic must be between 0 and 100000.", [nameof(RetainedMessagesPerTopic)]);
        }

        if (RetainedBytesPerTopic < 0)
        {
            yield return new ValidationResult($"{Section}:RetainedBytesPerTopic must not be negative.", [nameof(RetainedBytesPerTopic)]);
        }

        if (MaxOutstandingPushesPerSubscription < 1)
        {
            yield return new ValidationResult($"{Section}:MaxOutstandingPushesPerSubscription must be at least 1.", [nameof(MaxOutstandingPushesPerSubscription)]);
        }

        var topics = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < Topics.Count; index++)
        {
            if (PubSubNames.TopicProblem(Topics[index]) is { } problem)
            {
                yield return new ValidationResult($"{Section}:Topics:{index} {problem}", [nameof(Topics)]);
            }
            else if (!topics.Add(Topics[index]))
            {
                yield return new ValidationResult($"{Section}:Topics:{index} repeats topic {Topics[index]}.", [nameof(Topics)]);
            }
        }

        var subscriptions = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < Subscriptions.Count; index++)
        {
            var subscription = Subscriptions[index];
            foreach (var problem in subscription.Problems(topics))
            {
                yield return new ValidationResult($"{Section}:Subscriptions:{index}:{problem}", [nameof(Subscriptions)]);
            }

            if (!subscriptions.Add(subscription.Name))
            {
                yield return new ValidationResult($"{Section}:Subscriptions:{index}:Name repeats subscription {subscription.Name}.", [nameof(Subscriptions)]);
            }
        }
    }
}

/// <summary>A subscription created at start; the same settings as the REST <c>Subscription</c> resource.</summary>
public sealed class EmulatedSubscription
{
    /// <summary><c>projects/P/subscriptions/S</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>projects/P/topics/T</c>; must be one of the configured topics.</summary>
    public string Topic { get; set; } = "";

    /// <summary>The absolute http(s) URL messages are pushed to (<c>pushConfig.pushEndpoint</c>); empty for a pull subscription.</summary>
    public string PushEndpoint { get; set; } = "";

    /// <summary>Push as Eventarc does, a CloudEvent: <c>binary</c> or <c>structured</c>; a push envelope when empty.</summary>
    public string? Eventarc { get; set; }

    /// <summary><c>pushConfig.oidcToken</c>: sign each push as this service account; none when null.</summary>
    public EmulatedOidcToken? OidcToken { get; set; }

    /// <summary><c>pushConfig.noWrapper</c>: push the raw data instead of the JSON envelope; wrapped when null.</summary>
    public EmulatedNoWrapper? NoWrapper { get; set; }

    /// <summary>How long a push may take before it counts as a nack (10–600 s); also the push request's timeout.</summary>
    public int AckDeadlineSeconds { get; set; } = 10;

    public EmulatedRetryPolicy RetryPolicy { get; set; } = new();

    /// <summary>Where messages go after too many failed deliveries; none when null.</summary>
    public EmulatedDeadLetterPolicy? DeadLetterPolicy { get; set; }

    /// <summary>Deliver messages that share an ordering key one at a time, in publish order.</summary>
    public bool EnableMessageOrdering { get; set; }

    internal IEnumerable<string> Problems(IReadOnlySet<string> topics)
    {
        var spec = ToSpec();
        foreach (var problem in spec.Problems())
        {
            yield return problem;
        }

        if (PubSubNames.TopicProblem(Topic) is null && !topics.Contains(Topic))
        {
            yield return $"Topic {Topic} is not among the configured topics.";
        }

        if (DeadLetterPolicy is { } deadLetter && PubSubNames.TopicProblem(deadLetter.DeadLetterTopic) is null && !topics.Contains(deadLetter.DeadLetterTopic))
        {
            yield return $"DeadLetterPolicy:DeadLetterTopic {deadLetter.DeadLetterTopic} is not among the configured topics.";
        }
    }

    internal SubscriptionSpec ToSpec() => new(
        Name,
        Topic,
        string.IsNullOrWhiteSpace(PushEndpoint) ? null : PushEndpoint,
        OidcToken is { } oidc ? new PushOidcToken(oidc.ServiceAccountEmail, string.IsNullOrWhiteSpace(oidc.Audience) ? null : oidc.Audience) : null,
        NoWrapper is { } noWrapper ? new PushNoWrapper(noWrapper.WriteMetadata) : null,
        TimeSpan.FromSeconds(AckDeadlineSeconds),
        new PushRetryPolicy(RetryPolicy.MinimumBackoff, RetryPolicy.MaximumBackoff, Explicit: true),
        DeadLetterPolicy is { } policy ? new PushDeadLetterPolicy(policy.DeadLetterTopic, policy.MaxDeliveryAttempts) : null,
        SubscriptionSpec.DefaultRetention,
        EnableMessageOrdering,
        string.IsNullOrWhiteSpace(Eventarc) ? null : new Dictionary<string, string> { [SubscriptionSpec.EventarcLabel] = Eventarc });
}

/// <summary><c>pushConfig.oidcToken</c>.</summary>
public sealed class EmulatedOidcToken
{
    /// <summary>The token's <c>email</c> (and the account it is signed as).</summary>
    public string ServiceAccountEmail { get; set; } = "";

    /// <summary>The token's <c>aud</c>; the push endpoint URL when empty, as in Pub/Sub.</summary>
    public string? Audience { get; set; }
}

/// <summary><c>pushConfig.noWrapper</c>.</summary>
public sealed class EmulatedNoWrapper
{
    /// <summary>Send the message's metadata as <c>x-goog-pubsub-*</c> headers and its attributes as headers.</summary>
    public bool WriteMetadata { get; set; }
}

/// <summary><c>retryPolicy</c>: exponential backoff between redeliveries, with Pub/Sub's defaults.</summary>
public sealed class EmulatedRetryPolicy
{
    public TimeSpan MinimumBackoff { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaximumBackoff { get; set; } = TimeSpan.FromSeconds(600);
}

/// <summary><c>deadLetterPolicy</c>.</summary>
public sealed class EmulatedDeadLetterPolicy
{
    /// <summary><c>projects/P/topics/T</c>; must be one of the configured topics.</summary>
    public string DeadLetterTopic { get; set; } = "";

    /// <summary>Deliveries before a message is forwarded to the dead-letter topic (5–100).</summary>
    public int MaxDeliveryAttempts { get; set; } = 5;
}
