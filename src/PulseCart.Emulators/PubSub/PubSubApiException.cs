namespace PulseCart.Emulators.PubSub;

/// <summary>A Pub/Sub API error, answered as Google's <c>{"error":{"code","message","status"}}</c>.</summary>
internal sealed class PubSubApiException(int httpStatus, string status, string message) : Exception(message)
{
    public int HttpStatus { get; } = httpStatus;

    public string Status { get; } = status;

    public static PubSubApiException InvalidArgument(string message) => new(400, "INVALID_ARGUMENT", message);

    public static PubSubApiException NotFound(string message) => new(404, "NOT_FOUND", message);

    public static PubSubApiException AlreadyExists(string message) => new(409, "ALREADY_EXISTS", message);

    public static PubSubApiException Unimplemented(string message) => new(501, "UNIMPLEMENTED", message);

    /// <summary>Pub/Sub's wording when a topic or subscription is missing: it names the id, not the full name.</summary>
    public static PubSubApiException ResourceNotFound(string name) => NotFound($"Resource not found (resource={PubSubNames.IdOf(name)}).");

    public static PubSubApiException ResourceExists(string name) => AlreadyExists($"Resource already exists in the project (resource={PubSubNames.IdOf(name)}).");
}
