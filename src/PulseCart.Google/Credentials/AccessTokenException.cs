using Google.Apis.Auth.OAuth2.Responses;

namespace PulseCart.Google.Credentials;

/// <summary>
/// No access token for a Google API call: the token service or metadata server failed, did not answer within the call's
/// time, or the credentials are missing or refused. The clients turn it into their own exception, retryable or not.
/// </summary>
public sealed class AccessTokenException(Exception inner)
    : Exception($"could not get a Google access token: {inner.GetType().Name}: {inner.Message}", inner)
{
    /// <summary>
    /// False when the same credentials will be refused again (no Application Default Credentials, a credential file that
    /// cannot be read, a 4xx such as <c>invalid_grant</c>); true for anything a later call can get past.
    /// </summary>
    public bool IsTransient { get; } = inner switch
    {
        TokenResponseException { StatusCode: { } status } => RetryableStatus.Is(status),
        InvalidOperationException => false,
        _ => true,
    };

    /// <summary>A token from <paramref name="source"/>, waited for no longer than <paramref name="timeout"/>.</summary>
    /// <remarks>Google's library retries a failing token service for minutes, past any call's time.</remarks>
    public static async Task<string?> GetAsync(IAccessTokenSource source, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await source.GetAccessTokenAsync(cancellationToken).AsTask().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new AccessTokenException(exception);
        }
    }
}
