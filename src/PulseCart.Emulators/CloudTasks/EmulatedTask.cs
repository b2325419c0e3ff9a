using System.Text.Json.Serialization;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>A task as the emulator stores it, including the dispatch bookkeeping Cloud Tasks keeps per task.</summary>
internal sealed record EmulatedTask
{
    public required string Name { get; init; }

    public required string Queue { get; init; }

    public required DateTimeOffset CreateTime { get; init; }

    public required DateTimeOffset ScheduleTime { get; init; }

    public required TimeSpan DispatchDeadline { get; init; }

    public required EmulatedHttpRequest HttpRequest { get; init; }

    public int DispatchCount { get; init; }

    public int ResponseCount { get; init; }

    /// <summary>Responses other than 5xx, which is what Cloud Tasks reports as <c>X-CloudTasks-TaskExecutionCount</c>.</summary>
    public int ExecutionCount { get; init; }

    public EmulatedAttempt? FirstAttempt { get; init; }

    public EmulatedAttempt? LastAttempt { get; init; }

    public string? RetryReason { get; init; }

    [JsonIgnore]
    public string Id => Name[(Name.LastIndexOf('/') + 1)..];
}

internal sealed record EmulatedHttpRequest(
    string Url,
    string HttpMethod,
    IReadOnlyDictionary<string, string> Headers,
    byte[]? Body,
    EmulatedOidcToken? OidcToken);

internal sealed record EmulatedOidcToken(string ServiceAccountEmail, string? Audience);

internal sealed record EmulatedAttempt(
    DateTimeOffset ScheduleTime,
    DateTimeOffset DispatchTime,
    DateTimeOffset? ResponseTime,
    int? ResponseCode,
    string? Error);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EmulatedTask))]
internal sealed partial class EmulatedTaskJsonContext : JsonSerializerContext;
