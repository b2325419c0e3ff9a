using System.Text.Json.Serialization;

namespace PulseCart.Google.CloudTasks;

// The slice of the Cloud Tasks v2 REST resources this client writes and reads.

internal sealed record CreateTaskRequest(CloudTaskResource Task);

internal sealed record CloudTaskResource(
    string Name,
    string? ScheduleTime,
    string? DispatchDeadline,
    CloudTaskHttpRequest? HttpRequest);

internal sealed record CloudTaskHttpRequest(
    string Url,
    string HttpMethod,
    IReadOnlyDictionary<string, string>? Headers,
    string? Body,
    CloudTaskOidcToken? OidcToken);

internal sealed record CloudTaskOidcToken(string ServiceAccountEmail, string? Audience);

internal sealed record ListTasksResponse(IReadOnlyList<CloudTaskResource>? Tasks, string? NextPageToken);

internal sealed record GoogleErrorResponse(GoogleError? Error);

internal sealed record GoogleError(int Code, string? Message, string? Status);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateTaskRequest))]
[JsonSerializable(typeof(GoogleErrorResponse))]
[JsonSerializable(typeof(ListTasksResponse))]
internal sealed partial class CloudTasksRestJsonContext : JsonSerializerContext;
