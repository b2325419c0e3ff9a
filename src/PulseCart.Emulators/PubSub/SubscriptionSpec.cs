using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using PulseCart.Emulators.Api;
using PulseCart.GoogleApis.PubSub.V1;

namespace PulseCart.Emulators.PubSub;

/// <summary>
/// A subscription's settings once read from options or from the API: validated, defaults applied. No push endpoint means
/// a pull subscription.
/// </summary>
internal sealed record SubscriptionSpec(
    string Name,
    string Topic,
    string? PushEndpoint,
    PushOidcToken? OidcToken,
    PushNoWrapper? NoWrapper,
    TimeSpan AckDeadline,
    PushRetryPolicy RetryPolicy,
    PushDeadLetterPolicy? DeadLetterPolicy,
    TimeSpan MessageRetention,
    bool EnableMessageOrdering,
    IReadOnlyDictionary<string, string>? Labels)
{
    /// <summary>
    /// The label that makes a push subscription deliver as Eventarc does, a CloudEvent, instead of a push envelope: value
    /// <c>binary</c> (<c>ce-*</c> headers) or <c>structured</c> (<c>application/cloudevents+json</c>). Emulator only.
    /// </summary>
    public const string EventarcLabel = "emulator-eventarc";

    /// <summary>What a deleted topic's subscriptions name as their topic.</summary>
    public const string DeletedTopic = "_deleted-topic_";

    public static readonly TimeSpan DefaultAckDeadline = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(7);
    public static readonly PushRetryPolicy DefaultRetryPolicy = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(600), Explicit: false);
    public const int DefaultMaxDeliveryAttempts = 5;

    /// <summary>How long an inactive subscription lives when its expiration policy is not set.</summary>
    public static readonly TimeSpan DefaultExpiration = TimeSpan.FromDays(31);

    private static readonly TimeSpan MinAckDeadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxAckDeadline = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(600);
    internal static readonly TimeSpan MinRetention = TimeSpan.FromMinutes(10);
    internal static readonly TimeSpan MaxRetention = TimeSpan.FromDays(31);
    private static readonly TimeSpan MinExpiration = TimeSpan.FromDays(1);

    /// <summary>
    /// The expiration policy's time to live: 31 days unless set, null when set without one (never expires). Kept and
    /// shown as Pub/Sub does; the twin itself never deletes an inactive subscription.
    /// </summary>
    public TimeSpan? Expiration { get; init; } = DefaultExpiration;

    public bool IsPull => PushEndpoint is null;

    /// <summary>How a push is shaped: Pub/Sub's push envelope, or a CloudEvent as Eventarc sends.</summary>
    public EventarcMode? Eventarc =>
        Labels?.GetValueOrDefault(EventarcLabel) switch
        {
            "binary" => EventarcMode.Binary,
            "structured" => EventarcMode.Structured,
            _ => null,
        };

    /// <summary>Reads a <see cref="Subscription"/> resource as Pub/Sub would, refusing what the twin does not do.</summary>
    public static SubscriptionSpec FromResource(Subscription resource)
    {
        if (string.IsNullOrEmpty(resource.Topic))
        {
            throw ApiException.InvalidArgument("Subscription.topic is required: projects/PROJECT/topics/TOPIC.");
        }

        if (resource.Filter.Length > 0)
        {
            throw ApiException.InvalidArgument("The twin does not filter messages: leave subscription.filter unset.");
        }

        if (resource.BigqueryConfig is not null || resource.CloudStorageConfig is not null)
        {
            throw ApiException.InvalidArgument("The twin delivers by push or pull only: leave bigqueryConfig and cloudStorageConfig unset.");
        }

        if (resource.EnableExactlyOnceDelivery || resource.RetainAckedMessages || resource.Detached)
        {
            throw ApiException.InvalidArgument("The twin does not do exactly-once delivery, retain acknowledged messages or detach subscriptions.");
        }

        var push = resource.PushConfig;
        var pushEndpoint = string.IsNullOrEmpty(push?.PushEndpoint) ? null : push.PushEndpoint;
        var oidcToken = push?.OidcToken is { } oidc ? new PushOidcToken(oidc.ServiceAccountEmail, oidc.Audience.Length == 0 ? null : oidc.Audience) : null;
        var noWrapper = push?.NoWrapper is { } unwrapped ? new PushNoWrapper(unwrapped.WriteMetadata) : null;

        // Zero, like an absent field, means the default in Pub/Sub's API.
        var ackDeadline = resource.AckDeadlineSeconds == 0 ? DefaultAckDeadline : TimeSpan.FromSeconds(resource.AckDeadlineSeconds);
        var retryPolicy = resource.RetryPolicy is { } retry
            ? new PushRetryPolicy(
                retry.MinimumBackoff?.ToTimeSpan() ?? DefaultRetryPolicy.MinimumBackoff,
                retry.MaximumBackoff?.ToTimeSpan() ?? DefaultRetryPolicy.MaximumBackoff,
                Explicit: true)
            : DefaultRetryPolicy;
        var deadLetterPolicy = resource.DeadLetterPolicy is { DeadLetterTopic.Length: > 0 } deadLetter
            ? new PushDeadLetterPolicy(deadLetter.DeadLetterTopic, deadLetter.MaxDeliveryAttempts == 0 ? DefaultMaxDeliveryAttempts : deadLetter.MaxDeliveryAttempts)
            : null;
        var spec = new SubscriptionSpec(
            resource.Name,
            resource.Topic,
            pushEndpoint,
            oidcToken,
            noWrapper,
            ackDeadline,
            retryPolicy,
            deadLetterPolicy,
            resource.MessageRetentionDuration?.ToTimeSpan() ?? DefaultRetention,
            resource.EnableMessageOrdering,
            resource.Labels.Count == 0 ? null : new Dictionary<string, string>(resource.Labels, StringComparer.Ordinal))
        {
            Expiration = resource.ExpirationPolicy is { } expiration ? expiration.Ttl?.ToTimeSpan() : DefaultExpiration,
        };
        return spec.Problems().FirstOrDefault() is { } problem
            ? throw ApiException.InvalidArgument($"Invalid subscription: {problem}")
            : spec;
    }

    public Subscription ToResource()
    {
        var resource = new Subscription
        {
            Name = Name,
            Topic = Topic,
            AckDeadlineSeconds = (int)AckDeadline.TotalSeconds,
            MessageRetentionDuration = Duration.FromTimeSpan(MessageRetention),
            EnableMessageOrdering = EnableMessageOrdering,
            State = Subscription.Types.State.Active,
            PushConfig = new PushConfig(),
            ExpirationPolicy = new ExpirationPolicy { Ttl = Expiration is { } ttl ? Duration.FromTimeSpan(ttl) : null },
        };
        if (PushEndpoint is not null)
        {
            resource.PushConfig.PushEndpoint = PushEndpoint;
            if (OidcToken is { } oidc)
            {
                resource.PushConfig.OidcToken = new PushConfig.Types.OidcToken { ServiceAccountEmail = oidc.ServiceAccountEmail, Audience = oidc.Audience ?? "" };
            }

            if (NoWrapper is { } noWrapper)
            {
                resource.PushConfig.NoWrapper = new PushConfig.Types.NoWrapper { WriteMetadata = noWrapper.WriteMetadata };
            }
        }

        if (RetryPolicy.Explicit)
        {
            resource.RetryPolicy = new RetryPolicy
            {
                MinimumBackoff = Duration.FromTimeSpan(RetryPolicy.MinimumBackoff),
                MaximumBackoff = Duration.FromTimeSpan(RetryPolicy.MaximumBackoff),
            };
        }

        if (DeadLetterPolicy is { } deadLetter)
        {
            resource.DeadLetterPolicy = new DeadLetterPolicy { DeadLetterTopic = deadLetter.DeadLetterTopic, MaxDeliveryAttempts = deadLetter.MaxDeliveryAttempts };
        }

        if (Labels is not null)
        {
            resource.Labels.Add(Labels.ToDictionary());
        }

        return resource;
    }

    /// <summary>What is wrong with these settings, in Pub/Sub's own terms; nothing when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (PubSubNames.SubscriptionProblem(Name) is { } name)
        {
            yield return $"Name {name}";
        }

        if (Topic != DeletedTopic && PubSubNames.TopicProblem(Topic) is { } topic)
        {
            yield return $"Topic {topic}";
        }

        if (PushEndpoint is not null && (!Uri.TryCreate(PushEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https")))
        {
            yield return "PushEndpoint must be an absolute http or https URL (or empty, for a pull subscription).";
        }

        if (OidcToken is { } oidc && string.IsNullOrWhiteSpace(oidc.ServiceAccountEmail))
        {
            yield return "OidcToken:ServiceAccountEmail is required when an OIDC token is configured.";
        }

        if (Labels?.GetValueOrDefault(EventarcLabel) is { } eventarc && (Eventarc is null || PushEndpoint is null || NoWrapper is not null))
        {
            yield return $"Label {EventarcLabel}={eventarc}: use binary or structured, on a push subscription with the wrapper (Eventarc sends the envelope as the event's data).";
        }

        if (Expiration < MinExpiration)
        {
            yield return "ExpirationPolicy:Ttl must be at least 1 day (or unset, for a subscription that never expires).";
        }

        if (PubSubNames.LabelsProblem(Labels) is { } labels)
        {
            yield return $"Labels: {labels}";
        }

        if (AckDeadline < MinAckDeadline || AckDeadline > MaxAckDeadline)
        {
            yield return "AckDeadlineSeconds must be between 10 and 600.";
        }

        if (RetryPolicy.MinimumBackoff < TimeSpan.Zero || RetryPolicy.MinimumBackoff > MaxBackoff
            || RetryPolicy.MaximumBackoff < TimeSpan.Zero || RetryPolicy.MaximumBackoff > MaxBackoff)
        {
            yield return "RetryPolicy:MinimumBackoff and MaximumBackoff must be between 0 and 600 seconds.";
        }
        else if (RetryPolicy.MaximumBackoff < RetryPolicy.MinimumBackoff)
        {
            yield return "RetryPolicy:MaximumBackoff must be at least MinimumBackoff.";
        }

        if (DeadLetterPolicy is { } deadLetter)
        {
            if (PubSubNames.TopicProblem(deadLetter.DeadLetterTopic) is { } deadLetterTopic)
            {
                yield return $"DeadLetterPolicy:DeadLetterTopic {deadLetterTopic}";
            }

            if (deadLetter.MaxDeliveryAttempts is < 5 or > 100)
            {
                yield return "DeadLetterPolicy:MaxDeliveryAttempts must be between 5 and 100.";
            }
        }

        if (MessageRetention < MinRetention || MessageRetention > MaxRetention)
        {
            yield return "MessageRetentionDuration must be between 10 minutes and 31 days.";
        }
    }

    /// <summary>
    /// The wait before the next delivery after <paramref name="failedDeliveries"/> failed ones: the minimum backoff,
    /// doubling with each further failure, capped at the maximum (10 s, 600 s: 10, 20, 40, 80, 160, 320, 600, 600 s).
    /// A pull subscription without a retry policy redelivers at once, as Pub/Sub does.
    /// </summary>
    public TimeSpan Backoff(int failedDeliveries)
    {
        if (IsPull && !RetryPolicy.Explicit)
        {
            return TimeSpan.Zero;
        }

        var doublings = Math.Clamp(failedDeliveries - 1, 0, 62);
        var ticks = RetryPolicy.MinimumBackoff.Ticks * Math.Pow(2, doublings);
        return ticks >= RetryPolicy.MaximumBackoff.Ticks ? RetryPolicy.MaximumBackoff : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>How an Eventarc-style subscription sends its CloudEvent.</summary>
internal enum EventarcMode
{
    /// <summary>The event's attributes as <c>ce-*</c> headers, the push envelope as the body.</summary>
    Binary,

    /// <summary>The whole event as <c>application/cloudevents+json</c>, the push envelope as its <c>data</c>.</summary>
    Structured,
}

/// <summary><c>pushConfig.oidcToken</c>; a null audience means the push endpoint URL.</summary>
internal sealed record PushOidcToken(string ServiceAccountEmail, string? Audience);

/// <summary><c>pushConfig.noWrapper</c>.</summary>
internal sealed record PushNoWrapper(bool WriteMetadata);

/// <summary><c>retryPolicy</c>; <paramref name="Explicit"/> is false when the subscription left it unset (defaults apply).</summary>
internal sealed record PushRetryPolicy(TimeSpan MinimumBackoff, TimeSpan MaximumBackoff, bool Explicit);

/// <summary><c>deadLetterPolicy</c>.</summary>
internal sealed record PushDeadLetterPolicy(string DeadLetterTopic, int MaxDeliveryAttempts);

/// <summary>Pub/Sub's resource-name rules for topics and subscriptions.</summary>
internal static partial class PubSubNames
{
    public static string? TopicProblem(string? name) => Problem(name, "topics");

    public static string? SubscriptionProblem(string? name) => Problem(name, "subscriptions");

    /// <summary>The id after the last '/', as Pub/Sub names a resource in its error messages.</summary>
    public static string IdOf(string name) => name[(name.LastIndexOf('/') + 1)..];

    /// <summary>The project of <c>projects/P/…</c>.</summary>
    public static string ProjectOf(string name) => name.Split('/')[1];

    private static string? Problem(string? name, string collection)
    {
        if (string.IsNullOrEmpty(name))
        {
            return $"must be projects/PROJECT/{collection}/ID.";
        }

        var match = NamePattern().Match(name);
        if (!match.Success || match.Groups["collection"].Value != collection)
        {
            return $"'{name}' must be projects/PROJECT/{collection}/ID.";
        }

        var id = match.Groups["id"].Value;
        return IdPattern().IsMatch(id) && !id.StartsWith("goog", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"'{name}' has an invalid id: start with a letter, use letters, digits and - _ . ~ + %, 3 to 255 characters, not starting with 'goog'.";
    }

    /// <summary>
    /// What breaks Google's rules for labels (at most 64; keys of 1 to 63 lowercase letters, international characters,
    /// digits, '_' or '-', starting with a letter; values of up to 63 of the same), or null.
    /// </summary>
    public static string? LabelsProblem(IReadOnlyCollection<KeyValuePair<string, string>>? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return null;
        }

        if (labels.Count > MaxLabels)
        {
            return $"{labels.Count} labels; at most {MaxLabels} are allowed.";
        }

        foreach (var (key, value) in labels)
        {
            if (!LabelKeyPattern().IsMatch(key) || !LabelValuePattern().IsMatch(value))
            {
                return $"label '{(key.Length <= 63 ? key : key[..63] + "…")}': keys are 1 to 63 lowercase letters, international characters, digits, '_' or '-' starting with a letter, values up to 63 of the same.";
            }
        }

        return null;
    }

    private const int MaxLabels = 64;

    // Lowercase letters and international characters (letters without case), digits, '_' and '-'.
    [GeneratedRegex(@"^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{Nd}_-]{0,62}\z")]
    private static partial Regex LabelKeyPattern();

    [GeneratedRegex(@"^[\p{Ll}\p{Lo}\p{Nd}_-]{0,63}\z")]
    private static partial Regex LabelValuePattern();

    [GeneratedRegex("^projects/(?<project>[A-Za-z0-9.:-]+)/(?<collection>topics|subscriptions)/(?<id>[^/]+)$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9\\-_.~+%]{2,254}$")]
    private static partial Regex IdPattern();
}
