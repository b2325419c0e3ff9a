using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace PulseCart.Consumer.Security;

/// <summary>
/// The JWKS the tokens are signed against, cached for as long as its Cache-Control allows. A token naming an
/// unknown key (rotation) triggers one refresh, at most once per <see cref="AuthOptions.MinKeyRefreshInterval"/>
/// and by one caller at a time, so a flood of forged <c>kid</c>s cannot become a flood of fetches. While that refresh
/// fails, such a token gets an exception (answered 503, retried) rather than a refusal: it may be a real rotation.
/// </summary>
public sealed class SigningKeyCache(
    IHttpClientFactory httpClients,
    IOptions<AuthOptions> options,
    TimeProvider time,
    ILogger<SigningKeyCache> logger)
{
    public const string HttpClientName = "jwks";

    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SecurityKey> _keys = [];
    private DateTimeOffset _expiresAt = DateTimeOffset.MinValue;
    private DateTimeOffset _lastUnknownKeyRefresh = DateTimeOffset.MinValue;
    private bool _unknownKeyRefreshFailed;

    /// <summary>
    /// The key set could not be fetched or read (no answer, an error status, a time-out, not a JWKS): what a token's
    /// verification throws while keys are unavailable, to be answered 503.
    /// </summary>
    public static bool IsUnavailable(Exception exception) =>
        exception is HttpRequestException or ArgumentException or TaskCanceledException;

    public Task<IReadOnlyList<SecurityKey>> GetAsync(CancellationToken cancellationToken) =>
        time.GetUtcNow() < _expiresAt ? Task.FromResult(_keys) : RefreshAsync(unknownKey: false, cancellationToken);

    public Task<IReadOnlyList<SecurityKey>> RefreshForUnknownKeyAsync(CancellationToken cancellationToken) =>
        RefreshAsync(unknownKey: true, cancellationToken);

    private async Task<IReadOnlyList<SecurityKey>> RefreshAsync(bool unknownKey, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var freshEnough = unknownKey
                ? now - _lastUnknownKeyRefresh < options.Value.MinKeyRefreshInterval
                : now < _expiresAt;
            if (freshEnough)
            {
                // A key id that is new while the key set cannot be fetched may be a rotation: retry later, not refuse.
                return unknownKey && _unknownKeyRefreshFailed
                    ? throw new HttpRequestException($"signing keys could not be refreshed from {options.Value.JwksUri} for an unknown key id")
                    : _keys;
            }

            if (unknownKey)
            {
                // The attempt counts, failed or not: an outage must not become one fetch per token.
                _lastUnknownKeyRefresh = now;
            }

            return await FetchAsync(now, unknownKey, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IReadOnlyList<SecurityKey>> FetchAsync(DateTimeOffset now, bool unknownKey, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).GetAsync(options.Value.JwksUri, cancellationToken);
            response.EnsureSuccessStatusCode();
            var set = new JsonWebKeySet(await response.Content.ReadAsStringAsync(cancellationToken));
            _keys = set.GetSigningKeys().ToList();
            _unknownKeyRefreshFailed = false;

            var maxAge = response.Headers.CacheControl?.MaxAge ?? DefaultLifetime;
            _expiresAt = now + TimeSpan.FromTicks(Math.Clamp(maxAge.Ticks, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromDays(1).Ticks));
            logger.LogInformation("Loaded {KeyCount} token signing keys from {JwksUri}", _keys.Count, options.Value.JwksUri);
            return _keys;
        }
        catch (Exception exception) when (IsUnavailable(exception) && unknownKey)
        {
            logger.LogWarning(exception, "Could not refresh signing keys from {JwksUri} for an unknown key id", options.Value.JwksUri);
            _unknownKeyRefreshFailed = true;
            throw;
        }
        catch (Exception exception) when (IsUnavailable(exception) && _keys.Count > 0)
        {
            // Keep verifying with the keys we have; try again in a minute.
            logger.LogWarning(exception, "Could not refresh signing keys from {JwksUri}; keeping {KeyCount} cached keys", options.Value.JwksUri, _keys.Count);
            _expiresAt = time.GetUtcNow() + TimeSpan.FromMinutes(1);
            return _keys;
        }
    }
}
