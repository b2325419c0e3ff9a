using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace PulseCart.Consumer.Security;

/// <summary>
/// Operators prove themselves with a bearer token, basic credentials (both compared as SHA-256 hashes in constant
/// time, so configuration holds no secret in the clear), or a Google OIDC token from an allowed account.
/// </summary>
public sealed class OperatorHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<OperatorOptions> operators,
    GoogleTokenVerifier verifier) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    private const string UnavailableKey = "pulsecart.operators.keys-unavailable";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        var settings = operators.Value;
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return BasicMatches(header["Basic ".Length..].Trim(), settings)
                ? Success(settings.BasicUser!)
                : Fail("basic credentials");
        }

        if (!GoogleOidcHandler.TryReadBearer(Request, out var token))
        {
            return AuthenticateResult.NoResult();
        }

        if (HashMatches(token, settings.TokenSha256))
        {
            // The name the audit gives whoever holds the shared token.
            return Success("token");
        }

        if (settings.AllowedAccounts.Length > 0 && !string.IsNullOrWhiteSpace(settings.Audience) && token.Count(c => c == '.') == 2)
        {
            TokenVerdict verdict;
            try
            {
                verdict = await verifier.VerifyAsync(token, settings.Audience, Context.RequestAborted);
            }
            catch (Exception exception) when (SigningKeyCache.IsUnavailable(exception))
            {
                Logger.LogError(exception, "No signing keys to verify operator tokens");
                Context.Items[UnavailableKey] = true;
                return AuthenticateResult.Fail("signing keys unavailable");
            }

            if (verdict.IsValid && settings.AllowedAccounts.Contains(verdict.Email, StringComparer.OrdinalIgnoreCase))
            {
                return Success(verdict.Email!);
            }

            Logger.LogWarning("Rejected operator token: {FailedClaim}", verdict.FailedClaim ?? "email not in PulseCart:Operators:AllowedAccounts");
        }

        return Fail("bearer token");
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.ContainsKey(UnavailableKey))
        {
            return GoogleOidcHandler.WriteAsync(Response, StatusCodes.Status503ServiceUnavailable, "signing keys unavailable, retry later");
        }

        Response.Headers.WWWAuthenticate = "Bearer, Basic realm=\"pulsecart-operators\"";
        return GoogleOidcHandler.WriteAsync(Response, StatusCodes.Status401Unauthorized, "operator credentials required");
    }

    private static bool BasicMatches(string encoded, OperatorOptions settings)
    {
        if (settings.BasicUser is null || settings.BasicPasswordSha256 is null)
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':');
        if (colon < 0)
        {
            return false;
        }

        var userMatches = CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(decoded[..colon])), SHA256.HashData(Encoding.UTF8.GetBytes(settings.BasicUser)));
        return HashMatches(decoded[(colon + 1)..], settings.BasicPasswordSha256) & userMatches;
    }

    private static bool HashMatches(string secret, string? expectedSha256Hex)
    {
        if (string.IsNullOrWhiteSpace(expectedSha256Hex))
        {
            return false;
        }

        byte[] expected;
        try
        {
            expected = Convert.FromHexString(expectedSha256Hex.Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), expected);
    }

    private AuthenticateResult Success(string name)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    private AuthenticateResult Fail(string what)
    {
        Logger.LogWarning("Rejected operator {Credential}", what);
        return AuthenticateResult.Fail($"invalid {what}");
    }
}
