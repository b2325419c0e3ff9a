using System.Text.Json;
using System.Text.Json.Serialization;

namespace PulseCart.Emulators.PubSub;

// The Pub/Sub v1 REST resources the emulator writes, in Google's camelCase JSON with unset fields left out. Requests are
// read by ProtoJson instead, because proto3 JSON allows more than one spelling of each field and value.

internal sealed record TopicResource(
    string Name,
    IReadOnlyDictionary<string, string>? Labels,
    string? MessageRetentionDuration,
    JsonElement State);

internal sealed record SubscriptionResource(
    string Name,
    string Topic,
    PushConfigResource PushConfig,
    int AckDeadlineSeconds,
    string MessageRetentionDuration,
    RetryPolicyResource? RetryPolicy,
    DeadLetterPolicyResource? DeadLetterPolicy,
    bool? EnableMessageOrdering,
    IReadOnlyDictionary<string, string>? Labels,
    JsonElement State);

internal sealed record PushConfigResource(string PushEndpoint, OidcTokenResource? OidcToken, NoWrapperResource? NoWrapper);

internal sealed record OidcTokenResource(string ServiceAccountEmail, string? Audience);

// proto3 JSON leaves a false bool out, so a noWrapper without metadata is written as {}.
internal sealed record NoWrapperResource(bool? WriteMetadata);

internal sealed record RetryPolicyResource(string MinimumBackoff, string MaximumBackoff);

internal sealed record DeadLetterPolicyResource(string DeadLetterTopic, int MaxDeliveryAttempts);

internal sealed record PublishResponseResource(IReadOnlyList<string> MessageIds);

internal sealed record ListTopicsResource(IReadOnlyList<TopicResource> Topics);

internal sealed record ListSubscriptionsResource(IReadOnlyList<SubscriptionResource> Subscriptions);

internal sealed record ListTopicSubscriptionsResource(IReadOnlyList<string> Subscriptions);

internal sealed record ListMessagesResource(IReadOnlyList<PubsubMessageResource> Messages);

internal sealed record PubsubMessageResource(
    string? Data,
    IReadOnlyDictionary<string, string>? Attributes,
    string MessageId,
    string PublishTime,
    string? OrderingKey);

internal sealed record PubSubErrorResource(PubSubErrorDetailResource Error);

internal sealed record PubSubErrorDetailResource(int Code, string Message, string Status);

/// <summary>
/// The body of a wrapped push: both spellings of the message id and publish time, as Pub/Sub sends them, and
/// <c>deliveryAttempt</c> only when the subscription has a dead-letter policy.
/// </summary>
internal sealed record PushEnvelope(PushedMessage Message, string Subscription, int? DeliveryAttempt);

internal sealed record PushedMessage(
    string? Data,
    IReadOnlyDictionary<string, string>? Attributes,
    string MessageId,
    [property: JsonPropertyName("message_id")] string MessageIdSnake,
    string PublishTime,
    [property: JsonPropertyName("publish_time")] string PublishTimeSnake,
    string? OrderingKey);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TopicResource))]
[JsonSerializable(typeof(SubscriptionResource))]
[JsonSerializable(typeof(PublishResponseResource))]
[JsonSerializable(typeof(ListTopicsResource))]
[JsonSerializable(typeof(ListSubscriptionsResource))]
[JsonSerializable(typeof(ListTopicSubscriptionsResource))]
[JsonSerializable(typeof(ListMessagesResource))]
[JsonSerializable(typeof(PubSubErrorResource))]
[JsonSerializable(typeof(PushEnvelope))]
internal sealed partial class PubSubResourceJsonContext : JsonSerializerContext;
