using System.Net;

namespace PulseCart.Google.CloudTasks;

/// <summary>A Cloud Tasks call that failed: still failing after every client attempt, or refused for good.</summary>
/// <remarks>
/// The status and the verdict live in <see cref="Exception.Data"/>: from a grain on another silo Orleans carries an
/// exception's type, message and data but not its other fields, and the caller there must still tell a retry from a
/// refusal.
/// </remarks>
public class CloudTasksException : Exception
{
    private const string StatusKey = "PulseCart.CloudTasks.StatusCode";
    private const string GoogleStatusKey = "PulseCart.CloudTasks.GoogleStatus";
    private const string TransientKey = "PulseCart.CloudTasks.IsTransient";

    public CloudTasksException(string message, HttpStatusCode? statusCode = null, string? googleStatus = null, Exception? innerException = null)
        : this(message, statusCode, googleStatus, innerException, transient: statusCode is not { } status || RetryableStatus.Is(status))
    {
    }

    private protected CloudTasksException(string message, HttpStatusCode? statusCode, string? googleStatus, Exception? innerException, bool transient)
        : base(message, innerException)
    {
        if (statusCode is { } status)
        {
            Data[StatusKey] = (int)status;
        }

        if (googleStatus is not null)
        {
            Data[GoogleStatusKey] = googleStatus;
        }

        Data[TransientKey] = transient;
    }

    /// <summary>The HTTP status of the last answer, if there was one.</summary>
    public HttpStatusCode? StatusCode => Data[StatusKey] is int status ? (HttpStatusCode)status : null;

    /// <summary>Google's canonical error code of the last answer (for example <c>INVALID_ARGUMENT</c>), if it sent one.</summary>
    public string? GoogleStatus => Data[GoogleStatusKey] as string;

    /// <summary>
    /// True when retrying later might succeed (429, 408, 5xx, no answer, time out); false for any other answer and for a
    /// <see cref="CloudTasksRejectedException"/>, which the same request will meet again.
    /// </summary>
    public bool IsTransient => Data[TransientKey] is true;
}

/// <summary>
/// Cloud Tasks refused the request for good (a 4xx such as <c>INVALID_ARGUMENT</c>, for example a <c>scheduleTime</c> more
/// than 30 days ahead, or <c>PERMISSION_DENIED</c>): sending it again cannot succeed, so a caller should not ask for a retry.
/// </summary>
public sealed class CloudTasksRejectedException(string message, HttpStatusCode? statusCode = null, string? googleStatus = null)
    : CloudTasksException(message, statusCode, googleStatus, innerException: null, transient: false);
