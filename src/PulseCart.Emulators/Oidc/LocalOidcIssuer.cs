using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PulseCart.Emulators.Oidc;

/// <summary>
/// Signs Google-shaped OIDC identity tokens (RS256) for the embedded emulators, with one RSA key per process so that
/// every emulator, and every host restarted within a test run, signs with the same key. Its public key set is served at
/// <see cref="CertsPath"/>; consumers running next to the emulator can also take <see cref="ValidationKey"/> directly.
/// </summary>
public sealed class LocalOidcIssuer
{
    /// <summary>Where <see cref="LocalOidcEndpoints.MapLocalOidcIssuer"/> serves the JWKS.</summary>
    public const string CertsPath = "/emulators/oidc/certs";

    /// <summary>Where <see cref="LocalOidcEndpoints.MapLocalOidcIssuer"/> serves the OpenID discovery document.</summary>
    public const string DiscoveryPath = "/emulators/oidc/.well-known/openid-configuration";

    private static readonly Lazy<SigningKeyMaterial> ProcessKey = new(SigningKeyMaterial.Create);

    private readonly LocalOidcOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public LocalOidcIssuer(IOptions<LocalOidcOptions> options, TimeProvider timeProvider)
    {
        _options = options.Value;
        _timeProvider = timeProvider;
    }

    /// <summary>The <c>iss</c> claim of every token this issuer signs.</summary>
    public string Issuer => _options.Issuer;

    /// <summary>The <c>kid</c> header of every token: a hash of the public key, stable for the life of the process.</summary>
    public string KeyId => ProcessKey.Value.KeyId;

    /// <summary>The public half of the signing key, for validating tokens in-process without fetching the JWKS.</summary>
    public SecurityKey ValidationKey => ProcessKey.Value.PublicKey;

    /// <summary>The public key as a JSON Web Key (kty, n, e, kid, alg, use).</summary>
    public JsonWebKey PublicJsonWebKey => ProcessKey.Value.PublicJsonWebKey;

    /// <summary>
    /// An identity token like the one Google attaches for a service account: <c>aud</c>, <c>email</c>,
    /// <c>email_verified</c>, <c>sub</c>, <c>azp</c>, <c>iat</c> and <c>exp</c>, timed by the injected clock.
    /// </summary>
    public string CreateToken(string audience, string serviceAccountEmail)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceAccountEmail);
        var now = _timeProvider.GetUtcNow().UtcDateTime;
        var subject = SubjectFor(serviceAccountEmail);
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = audience,
            IssuedAt = now,
            Expires = now + _options.TokenLifetime,
            SigningCredentials = ProcessKey.Value.SigningCredentials,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = subject,
                ["azp"] = subject,
                ["email"] = serviceAccountEmail,
                ["email_verified"] = true,
            },
        });
    }

    // Google's sub is the service account's numeric unique id; a digest of the e-mail keeps it stable and numeric.
    private static string SubjectFor(string email)
    {
        var digest = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(email));
        return BitConverter.ToUInt64(digest, 0).ToString("D21", System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class SigningKeyMaterial
    {
        private SigningKeyMaterial(RsaSecurityKey privateKey, RsaSecurityKey publicKey, JsonWebKey publicJsonWebKey)
        {
            SigningCredentials = new SigningCredentials(privateKey, SecurityAlgorithms.RsaSha256);
            PublicKey = publicKey;
            PublicJsonWebKey = publicJsonWebKey;
        }

        public string KeyId => PublicJsonWebKey.Kid;

        public SigningCredentials SigningCredentials { get; }

        public RsaSecurityKey PublicKey { get; }

        public JsonWebKey PublicJsonWebKey { get; }

        public static SigningKeyMaterial Create()
        {
            var rsa = RSA.Create(2048);
            var parameters = rsa.ExportParameters(includePrivateParameters: false);
            var keyId = Convert.ToHexStringLower(SHA256.HashData([.. parameters.Modulus!, .. parameters.Exponent!]).AsSpan(0, 20));
            var privateKey = new RsaSecurityKey(rsa) { KeyId = keyId };
            var publicKey = new RsaSecurityKey(parameters) { KeyId = keyId };
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(publicKey);
            jwk.Alg = SecurityAlgorithms.RsaSha256;
            jwk.Use = JsonWebKeyUseNames.Sig;
            return new SigningKeyMaterial(privateKey, publicKey, jwk);
        }
    }
}
