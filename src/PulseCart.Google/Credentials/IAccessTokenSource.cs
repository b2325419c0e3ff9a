namespace PulseCart.Google.Credentials;

/// <summary>Supplies the OAuth access token sent as <c>Authorization: Bearer</c> on Google API calls.</summary>
public interface IAccessTokenSource
{
    /// <summary>A current access token, or null when calls go unauthenticated (an emulator).</summary>
    ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken = default);
}

/// <summary>No credentials: used when the API base URL is an emulator rather than googleapis.com.</summary>
public sealed class NoAccessTokenSource : IAccessTokenSource
{
    public ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(null);
}

/// <summary>Which calls carry Google credentials: those to Google's APIs; any other host is a twin and gets none.</summary>
public static class AccessTokenSources
{
    private static bool IsGoogleApi(Uri baseUrl) =>
        baseUrl.Host.Equals("googleapis.com", StringComparison.OrdinalIgnoreCase)
        || baseUrl.Host.EndsWith(".googleapis.com", StringComparison.OrdinalIgnoreCase);

    /// <summary>Application Default Credentials for Google's APIs, none for a twin.</summary>
    public static IAccessTokenSource For(Uri baseUrl) =>
        IsGoogleApi(baseUrl) ? new GoogleAccessTokenSource() : new NoAccessTokenSource();
}
