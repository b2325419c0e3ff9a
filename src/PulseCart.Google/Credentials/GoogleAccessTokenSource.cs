using Google.Apis.Auth.OAuth2;

namespace PulseCart.Google.Credentials;

/// <summary>
/// Application Default Credentials (the metadata server on Cloud Run and GKE, <c>GOOGLE_APPLICATION_CREDENTIALS</c> or
/// gcloud's user credentials on a laptop), scoped to <c>cloud-platform</c>. The credential caches and refreshes the token.
/// </summary>
public sealed class GoogleAccessTokenSource : IAccessTokenSource
{
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private readonly Lock _lock = new();
    private Task<ITokenAccess>? _credential;

    public async ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken = default)
    {
        var credential = await CredentialAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return await credential.GetAccessTokenForRequestAsync(authUri: null, cancellationToken).ConfigureAwait(false);
    }

    // Resolving ADC can touch the file system and the metadata server, so it happens on first use rather than at startup,
    // and a failed lookup is tried again on the next call instead of being cached.
    private Task<ITokenAccess> CredentialAsync()
    {
        lock (_lock)
        {
            if (_credential is null || _credential.IsFaulted || _credential.IsCanceled)
            {
                _credential = LoadAsync();
            }

            return _credential;
        }
    }

    private static async Task<ITokenAccess> LoadAsync()
    {
        var credential = await GoogleCredential.GetApplicationDefaultAsync().ConfigureAwait(false);
        return credential.CreateScoped(CloudPlatformScope);
    }
}
