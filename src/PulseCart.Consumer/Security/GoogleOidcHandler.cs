using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Json;
using PulseCart.Consumer.Telemetry;

namespace PulseCart.Consumer.Security;

/// <summary>The body of a 401, 403 or 503 from authentication: what failed, never the credential.</summary>
public sealed record AuthProblem(int Status, string Detail);

public sealed class GoogleOidcSchemeOptions : AuthenticationSchemeOptions
{
    /// <summary>The <c>aud</c> tokens for this scheme must carry.</summary>
    public string Audience { get; set; } = "";
}

/// <summary>
/// Authenticates Google-signed OIDC bearer tokens. A failure answers 401 with the failed claim in the body and the
/// log (never the token); keys that cannot be fetched answer 503, so Pub/Sub and Cloud Tasks retry.
/// </summary>
public sealed class GoogleOidcHandler(
    IOptionsMonitor<GoogleOidcSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    GoogleTokenVerifier verifier,
    ConsumerMetrics metrics) : AuthenticationHandler<GoogleOidcSchemeOptions>(options, loggerFactory, encoder)
{
    public const string EmailClaim = "email";

    private const string FailureKey = "pulsecart.auth.failure";
    private const string UnavailableKey = "pulsecart.auth.unavailable";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!TryReadBearer(Request, out var token))
        {
            Context.Items[FailureKey] = "missing bearer token";
            return AuthenticateResult.NoResult();
        }

        TokenVerdict verdict;
        try
        {
            verdict = await verifier.VerifyAsync(token, Options.Audience, Context.RequestAborted);
        }
        catch (Exception exception) when (SigningKeyCache.IsUnavailable(exception))
        {
            Logger.LogError(exception, "No signing keys to verify {Scheme} tokens", Scheme.Name);
            Context.Items[UnavailableKey] = true;
            return AuthenticateResult.Fail("signing keys unavailable");
        }

        if (!verdict.IsValid)
        {
            Logger.LogWarning("Rejected {Scheme} token: claim {FailedClaim} failed ({Detail})", Scheme.Name, verdict.FailedClaim, verdict.Detail);
            Context.Items[FailureKey] = $"invalid token: {verdict.FailedClaim} failed";
            return AuthenticateResult.Fail(verdict.Detail!);
        }

        var identity = new ClaimsIdentity([new Claim(EmailClaim, verdict.Email!)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        CountRefusedPush();
        if (Context.Items.ContainsKey(UnavailableKey))
        {
            return WriteAsync(Response, StatusCodes.Status503ServiceUnavailable, "signing keys unavailable, retry later");
        }

        Response.Headers.WWWAuthenticate = "Bearer";
        return WriteAsync(Response, StatusCodes.Status401Unauthorized, Context.Items[FailureKey] as string ?? "unauthenticated");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        CountRefusedPush();
        return WriteAsync(Response, StatusCodes.Status403Forbidden, Context.Items[SecurityPolicies.ForbiddenReasonKey] as string ?? "principal not allowed");
    }

    private void CountRefusedPush()
    {
        if (Scheme.Name == SecurityPolicies.PushScheme)
        {
            metrics.PushReceived(null, "unauthorised", TimeSpan.Zero);
        }
    }

    internal static bool TryReadBearer(HttpRequest request, out string token)
    {
        var header = request.Headers.Authorization.ToString();
        token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        return token.Length > 0;
    }

    internal static Task WriteAsync(HttpResponse response, int status, string detail)
    {
        response.StatusCode = status;
        return response.WriteAsJsonAsync(new AuthProblem(status, detail), PulseCartJsonContext.Default.AuthProblem, "application/problem+json");
    }
}
