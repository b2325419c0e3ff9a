using System.ComponentModel.DataAnnotations;

namespace PulseCart.Consumer.Security;

public enum AuthMode
{
    /// <summary>No verification: for a laptop or a private network only. Logged as a warning at start.</summary>
    None,

    /// <summary>Every push and task callback must carry a Google-signed OIDC token from an allowed service account.</summary>
    Oidc,
}

/// <summary>Who may call <c>/consumer/push</c> and <c>/tasks/*</c> (<c>PulseCart:Auth</c>).</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "PulseCart:Auth";
    public const string GoogleJwksUri = "https://www.googleapis.com/oauth2/v3/certs";

    /// <summary><c>none</c> or <c>oidc</c>; unset means <c>oidc</c> in Production and <c>none</c> elsewhere.</summary>
    public AuthMode? Mode { get; set; }

    /// <summary>Where the signing keys are published; point it at the embedded emulator's JWKS to run <c>oidc</c> locally.</summary>
    public Uri JwksUri { get; set; } = new(GoogleJwksUri);

    /// <summary>Accepted <c>iss</c> values (Google uses both forms).</summary>
    public string[] Issuers { get; set; } = ["https://accounts.google.com", "accounts.google.com"];

    /// <summary>The <c>aud</c> the push subscription is configured with (by default Pub/Sub uses the push URL).</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// The <c>aud</c> of Cloud Tasks callbacks. Unset means the audience the consumer puts into its tasks'
    /// tokens (<c>PulseCart:CloudTasks:Audience</c>, else the callback URL, Cloud Tasks' own default), never the push
    /// audience: a token minted for pushes must not open the task door.
    /// </summary>
    public string? TasksAudience { get; set; }

    /// <summary>The service accounts (the <c>email</c> claim) allowed to push and to call back.</summary>
    public string[] AllowedServiceAccounts { get; set; } = [];

    /// <summary>Tolerance on <c>exp</c>, <c>nbf</c> and <c>iat</c> for clock drift.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "PulseCart:Auth:ClockSkew must be between 0 and 5 minutes.")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Signing keys are re-read at most this often when a token names an unknown key (rotation).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "PulseCart:Auth:MinKeyRefreshInterval must be between 0 and 1 hour.")]
    public TimeSpan MinKeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Only meaningful once <see cref="Mode"/> has been resolved against the environment.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Mode != AuthMode.Oidc)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            yield return new ValidationResult("PulseCart:Auth:Audience is required when PulseCart:Auth:Mode is oidc.", [nameof(Audience)]);
        }

        if (AllowedServiceAccounts.Length == 0 || AllowedServiceAccounts.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult(
                "PulseCart:Auth:AllowedServiceAccounts needs at least one service account email when PulseCart:Auth:Mode is oidc.",
                [nameof(AllowedServiceAccounts)]);
        }

        if (Issuers.Length == 0)
        {
            yield return new ValidationResult("PulseCart:Auth:Issuers must name at least one issuer.", [nameof(Issuers)]);
        }

        if (JwksUri is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            yield return new ValidationResult("PulseCart:Auth:JwksUri must be an absolute http(s) URL.", [nameof(JwksUri)]);
        }
    }
}

/// <summary>Who may read <c>/ops</c>, <c>/dashboard</c> and <c>/metrics</c> (<c>PulseCart:Operators</c>).</summary>
public sealed class OperatorOptions
{
    public const string Section = "PulseCart:Operators";

    /// <summary>SHA-256 (hex) of the operators' bearer token; store the hash, never the token.</summary>
    public string? TokenSha256 { get; set; }

    /// <summary>User name for basic authentication.</summary>
    public string? BasicUser { get; set; }

    /// <summary>SHA-256 (hex) of the basic-authentication password.</summary>
    public string? BasicPasswordSha256 { get; set; }

    /// <summary>Accounts (the <c>email</c> claim of a Google OIDC token) allowed to operate.</summary>
    public string[] AllowedAccounts { get; set; } = [];

    /// <summary>The <c>aud</c> an operator's OIDC token must carry.</summary>
    public string? Audience { get; set; }
}
