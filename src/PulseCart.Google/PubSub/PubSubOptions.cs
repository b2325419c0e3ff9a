using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace PulseCart.Google.PubSub;

/// <summary>The push subscription the consumer is fed by, which the pause switch detaches and restores (<c>PulseCart:PubSub</c>).</summary>
public sealed partial class PubSubOptions : IValidatableObject
{
    public const string Section = "PulseCart:PubSub";

    /// <summary>The subscription <c>deploy/gcp.sh</c> creates.</summary>
    public const string DefaultSubscription = "pulsecart-consumer";

    /// <summary>
    /// The Pub/Sub REST root; the embedded twin sets its own (<c>http://localhost:8080/emulators/pubsub</c>), a standalone
    /// twin is at <c>http://127.0.0.1:8086</c>.
    /// </summary>
    public Uri BaseUrl { get; set; } = new("https://pubsub.googleapis.com");

    /// <summary>The Google Cloud project of the subscription; without it the consumer runs the embedded Pub/Sub twin.</summary>
    public string? ProjectId { get; set; }

    /// <summary>
    /// The subscription that pushes to this consumer: an id in <see cref="ProjectId"/> (default <c>pulsecart-consumer</c>
    /// when a project is set) or a full name <c>projects/P/subscriptions/S</c>. Unset with no project: pushes cannot be paused.
    /// </summary>
    public string? Subscription { get; set; }

    /// <summary>How many times one API call is tried before giving up.</summary>
    public int MaxClientAttempts { get; set; } = 3;

    /// <summary>How long one attempt may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most one call may take, retries included.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>projects/P/subscriptions/S</c>, or null when no subscription is configured.</summary>
    public string? SubscriptionPath => Subscription switch
    {
        { Length: > 0 } name when name.StartsWith("projects/", StringComparison.Ordinal) => name,
        { Length: > 0 } id when !string.IsNullOrWhiteSpace(ProjectId) => $"projects/{ProjectId}/subscriptions/{id}",
        null or "" when !string.IsNullOrWhiteSpace(ProjectId) => $"projects/{ProjectId}/subscriptions/{DefaultSubscription}",
        _ => null,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BaseUrl is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            yield return Invalid("must be an absolute http(s) URL.", nameof(BaseUrl));
        }

        if (Subscription is { Length: > 0 } subscription)
        {
            if (subscription.StartsWith("projects/", StringComparison.Ordinal) ? !FullNamePattern().IsMatch(subscription) : !IdPattern().IsMatch(subscription))
            {
                yield return Invalid("must be a subscription id (3-255 of letters, digits, - _ . ~ + %, starting with a letter) or projects/P/subscriptions/S.", nameof(Subscription));
            }
            else if (!subscription.StartsWith("projects/", StringComparison.Ordinal) && string.IsNullOrWhiteSpace(ProjectId))
            {
                yield return Invalid($"is an id: set {Section}:ProjectId too, or give the full name projects/P/subscriptions/S.", nameof(Subscription));
            }
        }

        if (MaxClientAttempts is < 1 or > 10)
        {
            yield return Invalid("must be between 1 and 10.", nameof(MaxClientAttempts));
        }

        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromMinutes(1))
        {
            yield return Invalid("must be more than 0 and at most 1 minute.", nameof(RequestTimeout));
        }

        if (TotalTimeout < TimeSpan.FromSeconds(1) || TotalTimeout > TimeSpan.FromMinutes(5))
        {
            yield return Invalid("must be between 1 second and 5 minutes.", nameof(TotalTimeout));
        }
    }

    private static ValidationResult Invalid(string problem, string member) => new($"{Section}:{member} {problem}", [member]);

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^projects/[A-Za-z0-9.:-]+/subscriptions/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")]
    private static partial Regex FullNamePattern();
}
