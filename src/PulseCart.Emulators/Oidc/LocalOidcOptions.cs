namespace PulseCart.Emulators.Oidc;

/// <summary>The embedded emulators' token issuer (<c>PulseCart:Emulators:Oidc</c>), shared by every emulator that signs OIDC tokens.</summary>
public sealed class LocalOidcOptions
{
    public const string Section = "PulseCart:Emulators:Oidc";

    /// <summary>
    /// The <c>iss</c> of emulator tokens. Google's issuer by default so the consumer verifies emulator and Google tokens
    /// on one path; the tokens still verify only against the emulator's own key set.
    /// </summary>
    public string Issuer { get; set; } = "https://accounts.google.com";

    /// <summary>How long a signed token stays valid.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);
}
