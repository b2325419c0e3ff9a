using System.Text.Json.Serialization;

namespace PulseCart.Emulators.CloudTasks;

// The Cloud Tasks v2 REST resources the emulator reads and writes, in Google's camelCase JSON. Unknown fields in
// requests are ignored, as Google's API ignores fields it does not know for the target being used.

internal sealed record CreateTaskRequestResource(TaskResource? Task, string? ResponseView);

internal sealed record TaskResource
{
    public string? Name { get; init; }

    public string? ScheduleTime { get; init; }

    public string? CreateTime { get; init; }

    public string? DispatchDeadline { get; init; }

    public int? DispatchCount { get; init; }

    public int? ResponseCount { get; init; }

    public AttemptResource? FirstAttempt { get; init; }

    public AttemptResource? LastAttempt { get; init; }

    public string? View { get; init; }

    public HttpRequestResource? HttpRequest { get; init; }

    public System.Text.Json.JsonElement? AppEngineHttpRequest { get; init; }
}

internal sealed record HttpRequestResource(
    string? Url,
    string? HttpMethod,
    IReadOnlyDictionary<string, string>? Headers,
    string? Body,
    OidcTokenResource? OidcToken,
    System.Text.Json.JsonElement? OauthToken);

internal sealed record OidcTokenResource(string? ServiceAccountEmail, string? Audience);

internal sealed record AttemptResource(string? ScheduleTime, string? DispatchTime, string? ResponseTime, StatusResource? ResponseStatus);

internal sealed record StatusResource(int Code, string? Message);

internal sealed record ListTasksResource(IReadOnlyList<TaskResource> Tasks, string? NextPageToken);

internal sealed record EmptyResource;

internal sealed record ErrorResource(ErrorDetailResource Error);

internal sealed record ErrorDetailResource(int Code, string Message, string Status);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = false)]
[JsonSerializable(typeof(CreateTaskRequestResource))]
[JsonSerializable(typeof(TaskResource))]
[JsonSerializable(typeof(ListTasksResource))]
[JsonSerializable(typeof(EmptyResource))]
[JsonSerializable(typeof(ErrorResource))]
internal sealed partial class CloudTasksResourceJsonContext : JsonSerializerContext;
