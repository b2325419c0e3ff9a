using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.Events;
using PulseCart.Consumer.Routing;

namespace PulseCart.Consumer.PubSub;

/// <summary>
/// Turns a push request body into a <see cref="PushMessage"/>. A body whose root object has a <c>message</c>
/// object is Pub/Sub's wrapped envelope, and so is an Eventarc CloudEvent's data (binary or structured mode); anything
/// else is an unwrapped (<c>noWrapper</c>) delivery whose body is the event itself and whose metadata, when written,
/// arrives in <c>x-goog-pubsub-*</c> headers.
/// </summary>
public static class PushDecoder
{
    public const int MaxAttributes = 100;

    private const string HeaderPrefix = "x-goog-pubsub-";

    private static readonly IReadOnlyDictionary<string, string> NoAttributes = new Dictionary<string, string>();

    private static readonly JsonDocumentOptions EnvelopeOptions = new()
    {
        MaxDepth = EventParser.MaxJsonDepth,
        AllowDuplicateProperties = false,
    };

    public static DecodedPush Decode(ReadOnlyMemory<byte> body, IHeaderDictionary headers, RecentlyRouted fingerprints)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, EnvelopeOptions);
        }
        catch (JsonException)
        {
            // Not JSON at all: an unwrapped delivery of a broken event; the event parser names the problem.
            return Unwrapped(body, headers, fingerprints);
        }
        catch (InvalidOperationException)
        {
            // The duplicate-name check decodes every name and refuses an escaped lone surrogate.
            return new DecodedPush(null, "request body has a property name that is not valid Unicode text", null, null);
        }

        using (document)
        {
            var root = CloudEventData(document.RootElement);
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.Object)
            {
                try
                {
                    return Wrapped(root, message, fingerprints);
                }
                catch (InvalidOperationException)
                {
                    // GetString refuses escaped lone surrogates.
                    return new DecodedPush(null, "envelope contains invalid Unicode text", null, null);
                }
            }
        }

        return Unwrapped(body, headers, fingerprints);
    }

    /// <summary>
    /// Eventarc delivers a Pub/Sub message as a CloudEvent whose data is the push envelope's shape
    /// (<c>{"message":{…},"subscription":"…"}</c>): in binary mode that data is the body itself (the <c>ce-*</c> headers
    /// carry the rest), in structured mode (<c>application/cloudevents+json</c>) it is the event's <c>data</c>.
    /// </summary>
    private static JsonElement CloudEventData(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("specversion", out var version) && version.ValueKind == JsonValueKind.String
        && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            ? data
            : root;

    private static DecodedPush Wrapped(JsonElement root, JsonElement message, RecentlyRouted fingerprints)
    {
        if (!message.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.String)
        {
            return new DecodedPush(null, data.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
                ? "message.data is missing"
                : "message.data is not valid base64", MessageId(message), ReadName(root, "subscription"));
        }

        // A redelivery of data already routed in full is answered from its fingerprint alone.
        var fingerprint = fingerprints.Fingerprint(JsonMarshal.GetRawUtf8Value(data));
        if (fingerprints.Contains(fingerprint, out var routedBefore))
        {
            return new DecodedPush(null, null, null, null, fingerprint, routedBefore);
        }

        var messageId = MessageId(message);
        var subscription = ReadName(root, "subscription");
        if (!data.TryGetBytesFromBase64(out var bytes))
        {
            return new DecodedPush(null, "message.data is not valid base64", messageId, subscription);
        }

        IReadOnlyDictionary<string, string> attributes = NoAttributes;
        if (message.TryGetProperty("attributes", out var attributeObject) && attributeObject.ValueKind == JsonValueKind.Object)
        {
            var read = new Dictionary<string, string>(StringComparer.Ordinal);
            attributes = read;
            foreach (var attribute in attributeObject.EnumerateObject())
            {
                if (read.Count == MaxAttributes)
                {
                    return new DecodedPush(null, $"message.attributes has more than {MaxAttributes} entries", messageId, subscription);
                }

                if (attribute.Value.ValueKind == JsonValueKind.String)
                {
                    read[attribute.Name] = attribute.Value.GetString()!;
                }
            }
        }

        return new DecodedPush(new PushMessage(bytes, attributes), null, messageId, subscription, fingerprint);
    }

    private static string? MessageId(JsonElement message) => ReadName(message, "messageId") ?? ReadName(message, "message_id");

    private static DecodedPush Unwrapped(ReadOnlyMemory<byte> body, IHeaderDictionary headers, RecentlyRouted fingerprints)
    {
        string? messageId = null, subscription = null;
        foreach (var (name, value) in headers)
        {
            if (!name.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            switch (name.ToLowerInvariant()[HeaderPrefix.Length..])
            {
                case "message-id": messageId = ShownText.Cut(value.ToString(), ShownText.MaxNameChars); break;
                case "subscription-name": subscription = ShownText.Cut(value.ToString(), ShownText.MaxNameChars); break;
            }
        }

        // With writeMetadata, attributes arrive as plain headers we cannot tell from HTTP's own;
        // the event contract needs none of them, so only Pub/Sub's metadata headers are kept.
        var fingerprint = fingerprints.Fingerprint(body.Span);
        return fingerprints.Contains(fingerprint, out var routedBefore)
            ? new DecodedPush(null, null, null, null, fingerprint, routedBefore)
            : new DecodedPush(new PushMessage(body, NoAttributes), null, messageId, subscription, fingerprint);
    }

    // Ids and names only describe a delivery (logs, traces, the quarantine): kept short whatever was sent.
    private static string? ReadName(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? ShownText.Cut(value.GetString(), ShownText.MaxNameChars)
            : null;
}
