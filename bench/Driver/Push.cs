using System.Net;
using System.Text;

namespace PulseCart.Bench.Driver;

/// <summary>Wrapped Pub/Sub push bodies, as bench/load/push.lua builds them, and a client tuned for many connections.</summary>
public static class Push
{
    public static byte[] OrderPlaced(string prefix, int n) => Envelope(
        Event($"{prefix}e{n}", "order.placed", $"{prefix}u{n}",
            $"\"order_id\":\"{prefix}o{n}\",\"cart_id\":\"{prefix}c{n}\",\"total\":59.97,\"currency\":\"EUR\""),
        $"{prefix}{n}");

    public static byte[] CartUpdated(string prefix, long n) => Envelope(
        Event($"{prefix}e{n}", "cart.updated", $"{prefix}u{n}", $"\"cart_id\":\"{prefix}c{n}\""),
        $"{prefix}{n}");

    /// <summary>A cart.updated with its own ids and time, for loads that give one cart many events.</summary>
    public static byte[] CartUpdated(string eventId, string cartId, string userId, DateTimeOffset occurredAt) => Envelope(
        Event(eventId, "cart.updated", userId, $"\"cart_id\":\"{cartId}\"", Rfc3339(occurredAt)),
        eventId);

    public static string OrderConfirmationKey(string prefix, int n) => $"order_confirmation:{prefix}o{n}";

    /// <summary>UTC with milliseconds and a Z, as the consumer's accepted form of occurred_at.</summary>
    public static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static HttpClient Client(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestVersion = HttpVersion.Version11,
    };

    public static HttpRequestMessage Request(Uri url, byte[] body) => new(HttpMethod.Post, url)
    {
        Content = new ByteArrayContent(body) { Headers = { { "Content-Type", "application/json" } } },
    };

    // An hour ago: inside the consumer's accepted window of occurred_at whenever the bench runs.
    private static readonly string OccurredAt = DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    private static string Event(string id, string type, string user, string payload, string? occurredAt = null) =>
        $"{{\"event_id\":\"{id}\",\"event_type\":\"{type}\",\"event_version\":1,\"occurred_at\":\"{occurredAt ?? OccurredAt}\","
        + $"\"source\":\"bench\",\"user_id\":\"{user}\",\"payload\":{{{payload}}}}}";

    private static byte[] Envelope(string eventJson, string messageId) => Encoding.UTF8.GetBytes(
        $"{{\"message\":{{\"data\":\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(eventJson))}\",\"messageId\":\"{messageId}\","
        + "\"publishTime\":\"2026-11-22T10:00:00Z\"},\"subscription\":\"projects/pulsecart/subscriptions/bench\"}");
}
