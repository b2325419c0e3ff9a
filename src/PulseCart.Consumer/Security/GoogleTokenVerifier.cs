using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PulseCart.Consumer.Security;

/// <summary>The verdict on one bearer token: who it is, or the claim that failed. Never holds the token itself.</summary>
public sealed record TokenVerdict(string? Email, string? FailedClaim, string? Detail)
{
    public bool IsValid => FailedClaim is null;

    public static TokenVerdict Fail(string claim, string detail) => new(null, claim, detail);
}

/// <summary>
/// Verifies the OIDC tokens Pub/Sub push and Cloud Tasks attach: RS256 against the JWKS, issuer, audience, expiry
/// and issue time with a small skew, and a verified <c>email</c>. Whether that email may call is the caller's decision.
/// </summary>
public sealed class GoogleTokenVerifier(SigningKeyCache keys, IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public async Task<TokenVerdict> VerifyAsync(string token, string audience, CancellationToken cancellationToken)
    {
        if (!_handler.CanReadToken(token))
        {
            return TokenVerdict.Fail("token", "not a well-formed JWT");
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuers = options.Value.Issuers,
            ValidAudience = audience,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            IssuerSigningKeys = await keys.GetAsync(cancellationToken),
            ClockSkew = options.Value.ClockSkew,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            TryAllIssuerSigningKeys = false,
        };

        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            parameters.IssuerSigningKeys = await keys.RefreshForUnknownKeyAsync(cancellationToken);
            result = await _handler.ValidateTokenAsync(token, parameters);
        }

        if (!result.IsValid)
        {
            return TokenVerdict.Fail(FailedClaim(result.Exception), result.Exception?.GetType().Name ?? "invalid token");
        }

        // Google's tokens always carry iat; one issued in the future was not minted by a clock we can trust.
        if (result.SecurityToken is not JsonWebToken { IssuedAt: var issuedAt } || issuedAt == DateTime.MinValue
            || issuedAt > time.GetUtcNow().UtcDateTime + options.Value.ClockSkew)
        {
            return TokenVerdict.Fail("iat", "token has no iat, or one in the future");
        }

        if (!IsTrue(Claim(result, "email_verified")))
        {
            return TokenVerdict.Fail("email_verified", "email is not verified");
        }

        return Claim(result, "email") is string { Length: > 0 } email
            ? new TokenVerdict(email, null, null)
            : TokenVerdict.Fail("email", "token has no email");
    }

    private static object? Claim(TokenValidationResult result, string name) =>
        result.Claims.TryGetValue(name, out var value) ? value : null;

    private static bool IsTrue(object? claim) => claim switch
    {
        bool flag => flag,
        string text => bool.TryParse(text, out var flag) && flag,
        JsonElement { ValueKind: JsonValueKind.True } => true,
        _ => false,
    };

    private static string FailedClaim(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException or SecurityTokenNoExpirationException => "exp",
        SecurityTokenNotYetValidException => "nbf",
        SecurityTokenInvalidAudienceException => "aud",
        SecurityTokenInvalidIssuerException => "iss",
        SecurityTokenSignatureKeyNotFoundException => "kid",
        SecurityTokenInvalidAlgorithmException => "alg",
        SecurityTokenInvalidSignatureException => "signature",
        SecurityTokenInvalidLifetimeException => "exp",
        _ => "token",
    };
}
