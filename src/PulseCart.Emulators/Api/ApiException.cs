using Grpc.Core;

namespace PulseCart.Emulators.Api;

/// <summary>
/// A refusal by an emulated Google API, with the canonical code Google would answer: gRPC callers get it as the call's
/// status, REST callers as <c>{"error":{"code","message","status"}}</c> with the matching HTTP status.
/// </summary>
internal sealed class ApiException(StatusCode code, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;

    /// <summary>The HTTP status Google's REST front end maps <see cref="Code"/> to.</summary>
    public int HttpStatus => HttpStatusOf(Code);

    /// <summary>The code's name as Google spells it in REST errors, for example <c>INVALID_ARGUMENT</c>.</summary>
    public string Status => StatusNameOf(Code);

    public static ApiException InvalidArgument(string message) => new(StatusCode.InvalidArgument, message);

    public static ApiException NotFound(string message) => new(StatusCode.NotFound, message);

    public static ApiException AlreadyExists(string message) => new(StatusCode.AlreadyExists, message);

    public static ApiException FailedPrecondition(string message) => new(StatusCode.FailedPrecondition, message);

    public static ApiException Unimplemented(string message) => new(StatusCode.Unimplemented, message);

    public static ApiException Unavailable(string message) => new(StatusCode.Unavailable, message);

    public static int HttpStatusOf(StatusCode code) => code switch
    {
        StatusCode.OK => 200,
        StatusCode.Cancelled => 499,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => 400,
        StatusCode.DeadlineExceeded => 504,
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists or StatusCode.Aborted => 409,
        StatusCode.PermissionDenied => 403,
        StatusCode.Unauthenticated => 401,
        StatusCode.ResourceExhausted => 429,
        StatusCode.Unimplemented => 501,
        StatusCode.Unavailable => 503,
        _ => 500,
    };

    public static string StatusNameOf(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.DataLoss => "DATA_LOSS",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => code.ToString().ToUpperInvariant(),
    };
}
