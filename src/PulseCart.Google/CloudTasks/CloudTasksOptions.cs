using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace PulseCart.Google.CloudTasks;

/// <summary>The Cloud Tasks queue reminders are scheduled on (<c>PulseCart:CloudTasks</c>).</summary>
public sealed partial class CloudTasksOptions : IValidatableObject
{
    public const string Section = "PulseCart:CloudTasks";

    /// <summary>The largest <c>dispatchDeadline</c> Cloud Tasks accepts for HTTP targets.</summary>
    public static readonly TimeSpan MaxDispatchDeadline = TimeSpan.FromMinutes(30);

    /// <summary>The smallest <c>dispatchDeadline</c> Cloud Tasks accepts for HTTP targets.</summary>
    public static readonly TimeSpan MinDispatchDeadline = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The Cloud Tasks REST root; point it at a twin (the embedded one at <c>http://localhost:8080/emulators/cloudtasks</c>, or
    /// a standalone one at <c>http://127.0.0.1:8124</c>) to run without Google.
    /// </summary>
    public Uri BaseUrl { get; set; } = new("https://cloudtasks.googleapis.com");

    /// <summary>The Google Cloud project that owns the queue.</summary>
    public string? ProjectId { get; set; }

    /// <summary>The queue's region, for example <c>europe-west1</c>.</summary>
    public string? Location { get; set; }

    /// <summary>The queue id (not the full resource name).</summary>
    public string Queue { get; set; } = "pulsecart-cart-reminders";

    /// <summary>The consumer's public root URL; Cloud Tasks calls <c>{CallbackBaseUrl}/tasks/cart-reminder</c>.</summary>
    public Uri? CallbackBaseUrl { get; set; }

    /// <summary>The service account Cloud Tasks signs an OIDC token as; without it the callback carries no token.</summary>
    public string? ServiceAccountEmail { get; set; }

    /// <summary>The OIDC token's audience; defaults to the callback URL, as Cloud Tasks does.</summary>
    public string? Audience { get; set; }

    /// <summary>How long Cloud Tasks waits for the callback to answer before it counts the attempt as failed.</summary>
    public TimeSpan DispatchDeadline { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many times one create or delete call is tried against the Cloud Tasks API before giving up.</summary>
    public int MaxClientAttempts { get; set; } = 4;

    /// <summary>The first client-side retry waits about this long; later ones double it, with jitter (or wait what Retry-After asks).</summary>
    public TimeSpan ClientRetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one attempt at a Cloud Tasks API call may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most one create or delete may take, retries included. A push waits for it, so keep it under the
    /// subscription's ack deadline (Pub/Sub's default is 10 s); when it runs out the push answers 503 and Pub/Sub retries.
    /// </summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary><c>projects/{ProjectId}/locations/{Location}/queues/{Queue}</c>.</summary>
    public string QueuePath => $"projects/{ProjectId}/locations/{Location}/queues/{Queue}";

    /// <summary>Where Cloud Tasks delivers reminder callbacks.</summary>
    public Uri CallbackUrl => new($"{CallbackBaseUrl?.AbsoluteUri.TrimEnd('/')}/tasks/cart-reminder");

    /// <summary>The OIDC audience actually used: <see cref="Audience"/> or the callback URL.</summary>
    public string EffectiveAudience => string.IsNullOrWhiteSpace(Audience) ? CallbackUrl.AbsoluteUri : Audience;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BaseUrl is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            yield return Invalid("must be an absolute http(s) URL.", nameof(BaseUrl));
        }

        if (string.IsNullOrWhiteSpace(ProjectId))
        {
            yield return Invalid("is required.", nameof(ProjectId));
        }
        else if (!ProjectIdPattern().IsMatch(ProjectId))
        {
            yield return Invalid("may contain only letters, digits, hyphens, colons and periods.", nameof(ProjectId));
        }

        if (string.IsNullOrWhiteSpace(Location))
        {
            yield return Invalid("is required.", nameof(Location));
        }
        else if (!ResourceIdPattern().IsMatch(Location))
        {
            yield return Invalid("may contain only letters, digits and hyphens.", nameof(Location));
        }

        if (string.IsNullOrWhiteSpace(Queue) || !ResourceIdPattern().IsMatch(Queue) || Queue.Length > 100)
        {
            yield return Invalid("is required and may contain only letters, digits and hyphens (at most 100).", nameof(Queue));
        }

        if (CallbackBaseUrl is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            yield return Invalid("is required and must be an absolute http(s) URL.", nameof(CallbackBaseUrl));
        }

        if (DispatchDeadline < MinDispatchDeadline || DispatchDeadline > MaxDispatchDeadline)
        {
            yield return Invalid("must be between 15 seconds and 30 minutes.", nameof(DispatchDeadline));
        }

        if (MaxClientAttempts is < 1 or > 20)
        {
            yield return Invalid("must be between 1 and 20.", nameof(MaxClientAttempts));
        }

        if (ClientRetryBaseDelay < TimeSpan.Zero || ClientRetryBaseDelay > TimeSpan.FromMinutes(1))
        {
            yield return Invalid("must be between 0 and 1 minute.", nameof(ClientRetryBaseDelay));
        }

        if (TotalTimeout < TimeSpan.FromSeconds(1) || TotalTimeout > TimeSpan.FromMinutes(10))
        {
            yield return Invalid("must be between 1 second and 10 minutes.", nameof(TotalTimeout));
        }

        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromMinutes(5))
        {
            yield return Invalid("must be more than 0 and at most 5 minutes.", nameof(RequestTimeout));
        }
    }

    private static ValidationResult Invalid(string problem, string member) => new($"{Section}:{member} {problem}", [member]);

    [GeneratedRegex("^[A-Za-z0-9.:-]+$")]
    private static partial Regex ProjectIdPattern();

    [GeneratedRegex("^[A-Za-z0-9-]+$")]
    private static partial Regex ResourceIdPattern();
}
