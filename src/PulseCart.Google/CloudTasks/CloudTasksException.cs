using System.Net;

namespace PulseCart.Google.CloudTasks;

/// <summary>A Cloud Tasks call that failed for good: rejected by the API, or still failing after every client attempt.</summary>
public sealed class CloudTasksException : Exception
{
    public CloudTasksException(string message, HttpStatusCode? statusCode = null, string? googleStatus = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        GoogleStatus = googleStatus;
    }

    /// <summary>The HTTP status of the last answer, if there was one.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Google's canonical error code of the last answer (for example <c>INVALID_ARGUMENT</c>), if it sent one.</summary>
    public string? GoogleStatus { get; }

    /// <summary>True when the last failure was one that retrying later might fix (429, 5xx, network, timeout).</summary>
    public bool IsTransient => StatusCode is null or HttpStatusCode.TooManyRequests || (int)StatusCode >= 500;
}
