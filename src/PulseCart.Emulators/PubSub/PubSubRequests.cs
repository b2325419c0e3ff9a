using System.Text;
using System.Text.Json;

namespace PulseCart.Emulators.PubSub;

/// <summary>Turns Pub/Sub v1 request bodies into the emulator's settings and messages, checking what Pub/Sub checks.</summary>
internal static class PubSubRequests
{
    /// <summary>A topic's settings from a <c>PUT …/topics/T</c> body (which may be empty).</summary>
    public static (IReadOnlyDictionary<string, string>? Labels, string? MessageRetentionDuration) Topic(JsonElement? body)
    {
        if (body is not { } topic)
        {
            return (null, null);
        }

        RequireObject(topic, "topic");
        ProtoJson.Enum(topic, "state", "topic", PubSubEmulator.TopicStates);
        if (ProtoJson.TryGetField(topic, "schemaSettings", out _))
        {
            throw PubSubApiException.InvalidArgument("The emulator does not validate schemas: leave topic.schemaSettings unset.");
        }

        var retention = ProtoJson.Duration(topic, "messageRetentionDuration", "topic");
        return (ProtoJson.StringMap(topic, "labels", "topic"), retention is { } duration ? CloudTasks.GoogleWireFormat.Duration(duration) : null);
    }

    /// <summary>A push subscription from a <c>PUT …/subscriptions/S</c> body; the name comes from the URL, as in Pub/Sub.</summary>
    public static SubscriptionSpec Subscription(string name, JsonElement? body)
    {
        if (body is not { } subscription)
        {
            throw PubSubApiException.InvalidArgument("A subscription body is required, with at least topic and pushConfig.pushEndpoint.");
        }

        const string Path = "subscription";
        RequireObject(subscription, Path);
        ProtoJson.Enum(subscription, "state", Path, PubSubEmulator.SubscriptionStates);
        var topic = ProtoJson.String(subscription, "topic", Path);
        if (string.IsNullOrEmpty(topic))
        {
            throw PubSubApiException.InvalidArgument("Subscription.topic is required: projects/PROJECT/topics/TOPIC.");
        }

        if (!string.IsNullOrEmpty(ProtoJson.String(subscription, "filter", Path)))
        {
            throw PubSubApiException.InvalidArgument("The emulator does not filter messages: leave subscription.filter unset.");
        }

        if (ProtoJson.TryGetField(subscription, "bigqueryConfig", out _) || ProtoJson.TryGetField(subscription, "cloudStorageConfig", out _))
        {
            throw PubSubApiException.InvalidArgument("The emulator delivers by push only: set pushConfig.pushEndpoint, not bigqueryConfig or cloudStorageConfig.");
        }

        var pushConfig = ProtoJson.Message(subscription, "pushConfig", Path);
        var pushEndpoint = pushConfig is { } push ? ProtoJson.String(push, "pushEndpoint", $"{Path}.push_config") : null;
        if (string.IsNullOrEmpty(pushEndpoint))
        {
            throw PubSubApiException.InvalidArgument("The emulator delivers by push only: set pushConfig.pushEndpoint.");
        }

        PushOidcToken? oidcToken = null;
        PushNoWrapper? noWrapper = null;
        if (pushConfig is { } config)
        {
            if (ProtoJson.Message(config, "oidcToken", $"{Path}.push_config") is { } oidc)
            {
                var email = ProtoJson.String(oidc, "serviceAccountEmail", $"{Path}.push_config.oidc_token");
                var audience = ProtoJson.String(oidc, "audience", $"{Path}.push_config.oidc_token");
                oidcToken = new PushOidcToken(email ?? "", string.IsNullOrEmpty(audience) ? null : audience);
            }

            if (ProtoJson.Message(config, "noWrapper", $"{Path}.push_config") is { } unwrapped)
            {
                noWrapper = new PushNoWrapper(ProtoJson.Bool(unwrapped, "writeMetadata", $"{Path}.push_config.no_wrapper") ?? false);
            }
        }

        // Zero, like an absent field, means the default in Pub/Sub's API.
        var ackDeadlineSeconds = ProtoJson.Int32(subscription, "ackDeadlineSeconds", Path) ?? 0;
        var ackDeadline = ackDeadlineSeconds == 0 ? SubscriptionSpec.DefaultAckDeadline : TimeSpan.FromSeconds(ackDeadlineSeconds);

        var retryPolicy = SubscriptionSpec.DefaultRetryPolicy;
        if (ProtoJson.Message(subscription, "retryPolicy", Path) is { } retry)
        {
            retryPolicy = new PushRetryPolicy(
                ProtoJson.Duration(retry, "minimumBackoff", $"{Path}.retry_policy") ?? retryPolicy.MinimumBackoff,
                ProtoJson.Duration(retry, "maximumBackoff", $"{Path}.retry_policy") ?? retryPolicy.MaximumBackoff,
                Explicit: true);
        }

        PushDeadLetterPolicy? deadLetterPolicy = null;
        if (ProtoJson.Message(subscription, "deadLetterPolicy", Path) is { } deadLetter
            && ProtoJson.String(deadLetter, "deadLetterTopic", $"{Path}.dead_letter_policy") is { Length: > 0 } deadLetterTopic)
        {
            var attempts = ProtoJson.Int32(deadLetter, "maxDeliveryAttempts", $"{Path}.dead_letter_policy") ?? 0;
            deadLetterPolicy = new PushDeadLetterPolicy(deadLetterTopic, attempts == 0 ? SubscriptionSpec.DefaultMaxDeliveryAttempts : attempts);
        }

        return new SubscriptionSpec(
            name,
            topic,
            pushEndpoint,
            oidcToken,
            noWrapper,
            ackDeadline,
            retryPolicy,
            deadLetterPolicy,
            ProtoJson.Duration(subscription, "messageRetentionDuration", Path) ?? SubscriptionSpec.DefaultRetention,
            ProtoJson.Bool(subscription, "enableMessageOrdering", Path) ?? false,
            ProtoJson.StringMap(subscription, "labels", Path));
    }

    /// <summary>The messages of a <c>:publish</c> body, checked against Pub/Sub's limits.</summary>
    public static IReadOnlyList<OutgoingMessage> Publish(JsonElement? body)
    {
        if (body is not { } request)
        {
            throw PubSubApiException.InvalidArgument("A publish body is required: {\"messages\":[{\"data\":\"<base64>\"}]}.");
        }

        RequireObject(request, "publish_request");
        var messages = new List<OutgoingMessage>();
        foreach (var element in ProtoJson.Repeated(request, "messages", "publish_request"))
        {
            var path = $"messages[{messages.Count}]";
            if (messages.Count == PubSubEmulator.MaxMessagesPerPublish)
            {
                throw PubSubApiException.InvalidArgument(
                    $"The value for message_count is too large. The maximum value is {PubSubEmulator.MaxMessagesPerPublish}.");
            }

            RequireObject(element, path);
            var data = ProtoJson.Bytes(element, "data", path) ?? [];
            var attributes = ProtoJson.StringMap(element, "attributes", path) ?? [];
            var orderingKey = ProtoJson.String(element, "orderingKey", path);
            if (data.Length == 0 && attributes.Count == 0)
            {
                throw PubSubApiException.InvalidArgument($"{path} has neither data nor attributes; a message needs at least one.");
            }

            CheckAttributes(attributes, path);
            if (orderingKey is not null && Encoding.UTF8.GetByteCount(orderingKey) > PubSubEmulator.MaxOrderingKeyBytes)
            {
                throw PubSubApiException.InvalidArgument($"{path}.ordering_key is longer than {PubSubEmulator.MaxOrderingKeyBytes} bytes.");
            }

            messages.Add(new OutgoingMessage(data, attributes, string.IsNullOrEmpty(orderingKey) ? null : orderingKey));
        }

        return messages.Count > 0
            ? messages
            : throw PubSubApiException.InvalidArgument("The request must contain at least one message.");
    }

    private static void CheckAttributes(Dictionary<string, string> attributes, string path)
    {
        if (attributes.Count > PubSubEmulator.MaxAttributes)
        {
            throw PubSubApiException.InvalidArgument($"{path} has {attributes.Count} attributes; at most {PubSubEmulator.MaxAttributes} are allowed.");
        }

        foreach (var (key, value) in attributes)
        {
            if (key.Length == 0 || Encoding.UTF8.GetByteCount(key) > PubSubEmulator.MaxAttributeKeyBytes)
            {
                throw PubSubApiException.InvalidArgument($"{path}.attributes has a key that is empty or longer than {PubSubEmulator.MaxAttributeKeyBytes} bytes.");
            }

            if (key.StartsWith("goog", StringComparison.OrdinalIgnoreCase))
            {
                throw PubSubApiException.InvalidArgument($"{path}.attributes key '{key}' is reserved: keys must not start with 'goog'.");
            }

            if (Encoding.UTF8.GetByteCount(value) > PubSubEmulator.MaxAttributeValueBytes)
            {
                throw PubSubApiException.InvalidArgument($"{path}.attributes['{key}'] is longer than {PubSubEmulator.MaxAttributeValueBytes} bytes.");
            }
        }
    }

    private static void RequireObject(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw PubSubApiException.InvalidArgument($"Invalid JSON payload received. Expected an object for '{path}'.");
        }
    }
}
