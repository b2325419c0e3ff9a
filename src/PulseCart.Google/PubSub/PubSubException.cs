using System.Net;

namespace PulseCart.Google.PubSub;

/// <summary>A Pub/Sub administration call that failed: refused, or still failing after every client attempt.</summary>
public sealed class PubSubException(string message, HttpStatusCode? statusCode = null, string? googleStatus = null, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The HTTP status of the last answer, if there was one.</summary>
    public HttpStatusCode? StatusCode { get; } = statusCode;

    /// <summary>Google's canonical error code of the last answer (for example <c>PERMISSION_DENIED</c>), if it sent one.</summary>
    public string? GoogleStatus { get; } = googleStatus;
}
