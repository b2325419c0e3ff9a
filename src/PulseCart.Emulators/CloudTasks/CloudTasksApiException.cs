namespace PulseCart.Emulators.CloudTasks;

/// <summary>A Cloud Tasks API error, answered as Google's <c>{"error":{"code","message","status"}}</c>.</summary>
internal sealed class CloudTasksApiException(int httpStatus, string status, string message) : Exception(message)
{
    public int HttpStatus { get; } = httpStatus;

    public string Status { get; } = status;

    public static CloudTasksApiException InvalidArgument(string message) => new(400, "INVALID_ARGUMENT", message);

    public static CloudTasksApiException NotFound(string message) => new(404, "NOT_FOUND", message);

    public static CloudTasksApiException AlreadyExists(string message) => new(409, "ALREADY_EXISTS", message);
}
