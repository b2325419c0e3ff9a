using System.Text.RegularExpressions;

namespace PulseCart.Emulators.PubSub;

/// <summary>A push subscription's settings once read from options or from a REST request: validated, defaults applied.</summary>
internal sealed record SubscriptionSpec(
    string Name,
    string Topic,
    string PushEndpoint,
    PushOidcToken? OidcToken,
    PushNoWrapper? NoWrapper,
    TimeSpan AckDeadline,
    PushRetryPolicy RetryPolicy,
    PushDeadLetterPolicy? DeadLetterPolicy,
    TimeSpan MessageRetention,
    bool EnableMessageOrdering,
    IReadOnlyDictionary<string, string>? Labels)
{
    public static readonly TimeSpan DefaultAckDeadline = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(7);
    public static readonly PushRetryPolicy DefaultRetryPolicy = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(600), Explicit: false);
    public const int DefaultMaxDeliveryAttempts = 5;

    private static readonly TimeSpan MinAckDeadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxAckDeadline = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan MinRetention = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MaxRetention = TimeSpan.FromDays(31);

    /// <summary>What is wrong with these settings, in Pub/Sub's own terms; nothing when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (PubSubNames.SubscriptionProblem(Name) is { } name)
        {
            yield return $"Name {name}";
        }

        if (PubSubNames.TopicProblem(Topic) is { } topic)
        {
            yield return $"Topic {topic}";
        }

        if (!Uri.TryCreate(PushEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            yield return "PushEndpoint must be an absolute http or https URL (the emulator delivers by push only).";
        }

        if (OidcToken is { } oidc && string.IsNullOrWhiteSpace(oidc.ServiceAccountEmail))
        {
            yield return "OidcToken:ServiceAccountEmail is required when an OIDC token is configured.";
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
    /// </summary>
    public TimeSpan Backoff(int failedDeliveries)
    {
        var doublings = Math.Clamp(failedDeliveries - 1, 0, 62);
        var ticks = RetryPolicy.MinimumBackoff.Ticks * Math.Pow(2, doublings);
        return ticks >= RetryPolicy.MaximumBackoff.Ticks ? RetryPolicy.MaximumBackoff : TimeSpan.FromTicks((long)ticks);
    }
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

    [GeneratedRegex("^projects/(?<project>[A-Za-z0-9.:-]+)/(?<collection>topics|subscriptions)/(?<id>[^/]+)$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9\\-_.~+%]{2,254}$")]
    private static partial Regex IdPattern();
}
