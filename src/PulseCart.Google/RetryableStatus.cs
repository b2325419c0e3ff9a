using System.Net;

namespace PulseCart.Google;

/// <summary>Google's answers worth a retry: 429, 408 and 5xx; any other is a refusal the same request meets again.</summary>
internal static class RetryableStatus
{
    public static bool Is(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)status >= 500;
}
