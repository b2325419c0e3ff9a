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
