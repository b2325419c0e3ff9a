using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace PulseCart.Emulators.Oidc;

public static class LocalOidcEndpoints
{
    // The apps whose routes already hold the key set: every emulator maps it, each app gets it once.
    private static readonly ConditionalWeakTable<IServiceProvider, object> Mapped = [];

    /// <summary>
    /// Serves the emulator issuer's JWKS at <see cref="LocalOidcIssuer.CertsPath"/> and its discovery document at
    /// <see cref="LocalOidcIssuer.DiscoveryPath"/>. Safe to call from every emulator: only the first call per app maps anything.
    /// </summary>
    public static IEndpointRouteBuilder MapLocalOidcIssuer(this IEndpointRouteBuilder endpoints)
    {
        if (!Mapped.TryAdd(endpoints.ServiceProvider, Mapped))
        {
            return endpoints;
        }

        endpoints.MapGet(LocalOidcIssuer.CertsPath, GetCerts).ExcludeFromDescription();
        endpoints.MapGet(LocalOidcIssuer.DiscoveryPath, GetDiscovery).ExcludeFromDescription();
        return endpoints;
    }

    private static JsonHttpResult<JwksDocument> GetCerts(LocalOidcIssuer issuer)
    {
        var key = issuer.PublicJsonWebKey;
        return TypedResults.Json(
            new JwksDocument([new JwkDocument(key.Kty, key.Alg, key.Use, key.Kid, key.N, key.E)]),
            LocalOidcJsonContext.Default.JwksDocument);
    }

    private static JsonHttpResult<DiscoveryDocument> GetDiscovery(LocalOidcIssuer issuer, HttpRequest request)
    {
        var jwksUri = $"{request.Scheme}://{request.Host}{request.PathBase}{LocalOidcIssuer.CertsPath}";
        return TypedResults.Json(
            new DiscoveryDocument(issuer.Issuer, jwksUri, ["RS256"], ["public"], ["id_token"]),
            LocalOidcJsonContext.Default.DiscoveryDocument);
    }
}

internal sealed record JwksDocument(IReadOnlyList<JwkDocument> Keys);

internal sealed record JwkDocument(string Kty, string Alg, string Use, string Kid, string N, string E);

internal sealed record DiscoveryDocument(
    string Issuer,
    string JwksUri,
    IReadOnlyList<string> IdTokenSigningAlgValuesSupported,
    IReadOnlyList<string> SubjectTypesSupported,
    IReadOnlyList<string> ResponseTypesSupported);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(JwksDocument))]
[JsonSerializable(typeof(DiscoveryDocument))]
internal sealed partial class LocalOidcJsonContext : JsonSerializerContext;
