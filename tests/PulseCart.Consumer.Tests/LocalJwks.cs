using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// Plays Google's side of OIDC on loopback: serves a JWKS over real HTTP and mints RS256 tokens with its keys,
/// or with keys it does not publish, to exercise every verification rule.
/// </summary>
public sealed class LocalJwks : IAsyncDisposable
{
    public const string Issuer = "https://accounts.google.com";

    private readonly WebApplication _app;
    private volatile RsaSecurityKey[] _published;
    private int _fetches;

    private LocalJwks(WebApplication app, RsaSecurityKey first)
    {
        _app = app;
        _published = [first];
    }

    public string JwksUri { get; private set; } = "";

    public int Fetches => _fetches;

    /// <summary>While true the key set answers 500, as during an outage.</summary>
    public bool Down { get; set; }

    public RsaSecurityKey CurrentKey => _published[^1];

    public static RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N") };

    public static async Task<LocalJwks> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var jwks = new LocalJwks(app, NewKey());
        app.MapGet("/certs", () =>
        {
            Interlocked.Increment(ref jwks._fetches);
            if (jwks.Down)
            {
                return Results.StatusCode(StatusCodes.Status500InternalServerError);
            }

            var keys = jwks._published.Select(key =>
            {
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(key);
                return new Dictionary<string, string> { ["kty"] = "RSA", ["kid"] = key.KeyId, ["alg"] = "RS256", ["use"] = "sig", ["n"] = jwk.N, ["e"] = jwk.E };
            });
            return Results.Json(new { keys });
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        jwks.JwksUri = $"{address}/certs";
        return jwks;
    }

    /// <summary>Google rotates: a new key is published beside the old one.</summary>
    public RsaSecurityKey Rotate()
    {
        var key = NewKey();
        _published = [.. _published, key];
        return key;
    }

    public string Mint(
        string audience,
        string email,
        bool emailVerified = true,
        string issuer = Issuer,
        DateTime? expires = null,
        RsaSecurityKey? signingKey = null,
        DateTime? issuedAt = null,
        bool withoutIssuedAt = false)
    {
        var expiry = expires ?? DateTime.UtcNow.AddHours(1);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = withoutIssuedAt ? null : issuedAt ?? expiry.AddHours(-1),
            NotBefore = expiry.AddHours(-1),
            Expires = expiry,
            Claims = new Dictionary<string, object> { ["email"] = email, ["email_verified"] = emailVerified, ["sub"] = "1234567890" },
            SigningCredentials = new SigningCredentials(signingKey ?? CurrentKey, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
