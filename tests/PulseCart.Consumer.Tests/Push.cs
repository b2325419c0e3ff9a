using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PulseCart.Consumer.Tests;

/// <summary>Builds PulseCart events and the Pub/Sub push requests that carry them.</summary>
public static class Push
{
    /// <summary>An hour ago, to the second: inside the window of accepted <c>occurred_at</c> whenever the suite runs.</summary>
    public static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600);

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static JsonObject Event(string type, string eventId, DateTimeOffset occurredAt, string userId, JsonObject payload) => new()
    {
        ["event_id"] = eventId,
        ["event_type"] = type,
        ["event_version"] = 1,
        ["occurred_at"] = occurredAt.ToString("O"),
        ["source"] = "tests",
        ["user_id"] = userId,
        ["payload"] = payload,
    };

    public static JsonObject OrderPlaced(string eventId, string orderId, string userId, string? cartId = null, DateTimeOffset? at = null) =>
        Event("order.placed", eventId, at ?? T0, userId, new JsonObject
        {
            ["order_id"] = orderId,
            ["cart_id"] = cartId,
            ["total"] = 59.97,
            ["currency"] = "EUR",
        });

    public static JsonObject CartAbandoned(string eventId, string cartId, string userId, DateTimeOffset at) =>
        Event("cart.abandoned", eventId, at, userId, new JsonObject { ["cart_id"] = cartId, ["total"] = 10, ["currency"] = "EUR" });

    public static JsonObject CartUpdated(string eventId, string cartId, string userId, DateTimeOffset at) =>
        Event("cart.updated", eventId, at, userId, new JsonObject { ["cart_id"] = cartId });

    public static JsonObject PaymentFailed(string eventId, string orderId, string userId) =>
        Event("payment.failed", eventId, T0, userId, new JsonObject { ["order_id"] = orderId, ["reason"] = "card_declined" });

    /// <summary>The wrapped envelope Pub/Sub POSTs, in its camelCase form.</summary>
    public static string Envelope(JsonNode @event, string? messageId = null) =>
        EnvelopeOfData(Convert.ToBase64String(Encoding.UTF8.GetBytes(@event.ToJsonString())), messageId);

    public static string EnvelopeOfData(string base64Data, string? messageId = null) => new JsonObject
    {
        ["message"] = new JsonObject
        {
            ["data"] = base64Data,
            ["attributes"] = new JsonObject { ["origin"] = "tests" },
            ["messageId"] = messageId ?? NewId("m"),
            ["publishTime"] = "2026-11-22T10:00:01Z",
        },
        ["subscription"] = "projects/pulsecart/subscriptions/consumer",
    }.ToJsonString();

    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, string body) =>
        client.PostAsync("/consumer/push", new StringContent(body, new MediaTypeHeaderValue("application/json")));

    public static Task<HttpResponseMessage> PushAsync(this HttpClient client, JsonNode @event, string? messageId = null) =>
        client.SendAsync(Envelope(@event, messageId));

    public static string Outcome(this HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-PulseCart-Outcome", out var values) ? values.Single() : $"(none, status {(int)response.StatusCode})";

    /// <summary>The quarantine's newest 1,000 entries as the operator API lists them (bodies up to their preview).</summary>
    public static async Task<IReadOnlyList<JsonElement>> QuarantinedAsync(this HttpClient client) =>
        (await client.GetJsonAsync("/ops/quarantine?limit=1000")).GetProperty("entries").EnumerateArray().ToList();

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
