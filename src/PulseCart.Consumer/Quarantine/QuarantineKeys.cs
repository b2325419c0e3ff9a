using System.Text.Json;
using PulseCart.Consumer.Events;

namespace PulseCart.Consumer.Quarantine;

/// <summary>
/// The cart and order a quarantined delivery names, where it names them as usable ids, so operators can find every
/// delivery about one cart or order. Read from the kept body when it is quarantined (a rare path): a push's event
/// (<c>payload.cart_id</c>, <c>payload.order_id</c>, inside the wrapped envelope's base64 data or as the unwrapped
/// body) or a reminder callback (<c>cart_id</c>). Anything unreadable simply names nothing.
/// </summary>
public static class QuarantineKeys
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = EventParser.MaxJsonDepth };

    public static (string? CartId, string? OrderId) Read(string source, ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body, Options);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            if (source == "task")
            {
                return (Id(root, "cart_id"), null);
            }

            if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                return message.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String && data.TryGetBytesFromBase64(out var bytes)
                    ? Read(source, bytes)
                    : (null, null);
            }

            return root.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object
                ? (Id(payload, "cart_id"), Id(payload, "order_id"))
                : (null, null);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or ArgumentException)
        {
            return (null, null);
        }
    }

    private static string? Id(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { } id && EventParser.IsUsableId(id)
            ? id
            : null;
}
