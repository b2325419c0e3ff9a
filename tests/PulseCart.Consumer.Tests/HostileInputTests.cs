using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// Generated hostile deliveries: whatever arrives, the consumer never answers 5xx, never logs an unhandled error,
/// never touches unrelated carts and orders, and keeps every unusable delivery in the quarantine.
/// </summary>
public sealed class HostileInputTests(ConsumerFixture fixture) : IClassFixture<ConsumerFixture>
{
    private const int Samples = 1_200;

    /// <summary>One generated delivery and what it must come to.</summary>
    public sealed record Hostile(string Kind, byte[] Body, IReadOnlyList<(string Name, string Value)> Headers, bool Usable);

    [Fact]
    public async Task HostileDeliveriesAreNeverA5xxAndEveryUnusableOneIsQuarantined()
    {
        var client = fixture.Client;
        var cart = Push.NewId("bystander-cart");
        var order = Push.NewId("bystander-order");
        await client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, "u-bystander", DateTimeOffset.UtcNow));
        await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-bystander"));
        var cartBefore = (await client.GetJsonAsync($"/ops/carts/{cart}")).GetRawText();
        var orderBefore = (await client.GetJsonAsync($"/ops/orders/{order}")).GetRawText();
        var quarantine = fixture.Factory.Services.GetRequiredService<IQuarantine>();
        // Large bodies push the oldest entries out of the byte-bounded quarantine: count what was kept or evicted.
        var quarantinedBefore = KeptOrEvicted(quarantine);
        var quarantined = 0;
        var failures = new List<string>();

        await HostileDeliveries().SampleAsync(async hostile =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/consumer/push") { Content = new ByteArrayContent(hostile.Body) };
            foreach (var (name, value) in hostile.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            var response = await client.SendAsync(request);
            var outcome = response.Outcome();
            if ((int)response.StatusCode >= 500
                || (hostile.Usable ? outcome is "quarantined" : outcome != "quarantined" && response.StatusCode != HttpStatusCode.RequestEntityTooLarge))
            {
                failures.Add($"{hostile.Kind}: {(int)response.StatusCode} {outcome} for {Encoding.UTF8.GetString(hostile.Body)[..Math.Min(200, hostile.Body.Length)]}");
            }

            if (outcome == "quarantined")
            {
                Interlocked.Increment(ref quarantined);
            }
        }, iter: Samples, threads: 1);

        Assert.Empty(failures);
        Assert.Equal(quarantinedBefore + quarantined, KeptOrEvicted(quarantine));
        Assert.Equal(cartBefore, (await client.GetJsonAsync($"/ops/carts/{cart}")).GetRawText());
        Assert.Equal(orderBefore, (await client.GetJsonAsync($"/ops/orders/{order}")).GetRawText());
        Assert.DoesNotContain(fixture.Factory.Logs.Lines, line => line.StartsWith("Error") || line.StartsWith("Critical"));
    }

    private static long KeptOrEvicted(IQuarantine quarantine) => quarantine.Stats() is { } stats ? stats.Entries + stats.Evicted : -1;

    private static Gen<Hostile> HostileDeliveries()
    {
        var text = Gen.String[Gen.Char, 0, 40];
        var printable = Gen.String[Gen.Char[' ', '~'], 1, 60];
        var controlId = Gen.Select(printable, Gen.Char['\0', '\u001f'], Gen.Int[0, 30],
            (id, control, at) => id.Insert(Math.Min(at, id.Length), control.ToString()));
        var longId = Gen.Int[201, 2_000].Select(length => new string('x', length));
        var exoticButValidId = Gen.OneOf("🛒-cart", "كارت", "カート", "Ω≈ç√", "a/b?c#d", "%00%0a");
        var invisibleId = Gen.Select(printable, Gen.OneOf('\u202E', '\u200B', '\uFEFF', '\u2028', '\u2029', '\u00AD', '\u2066'), Gen.Int[0, 30],
            (id, invisible, at) => id.Insert(Math.Min(at, id.Length), invisible.ToString()));
        var loneSurrogate = Gen.OneOf("\\ud800", "\\udfff", "\\ud83d", "\\udc00x");
        var notRfc3339 = Gen.OneOf("10:00", "11/22/2026", "Nov 22 2026", "2026-11-22", "2026-11-22T10:00:00", "2026-11-22 10:00:00Z",
            "2026-02-30T10:00:00Z", "2026-11-22T10:00:00+99:00", "", "now", "1732269600");
        var outOfWindow = Gen.OneOf(
            Gen.Int[11, 60 * 24 * 365 * 100].Select(minutes => DateTimeOffset.UtcNow.AddMinutes(minutes)),
            Gen.Int[60 * 24 * 9, 60 * 24 * 365 * 100].Select(minutes => DateTimeOffset.UtcNow.AddMinutes(-minutes)),
            Gen.Const(DateTimeOffset.MaxValue), Gen.Const(DateTimeOffset.MinValue))
            .Select(at => at.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'"));
        var routedType = Gen.OneOf("cart.updated", "cart.abandoned", "order.placed", "payment.failed");

        var wrongValue = Gen.OneOf<JsonNode?>(12, 1e300, true, new JsonArray(), new JsonObject(), "", JsonNode.Parse("1" + new string('0', 400)));
        var requiredField = Gen.OneOf("event_id", "event_type", "occurred_at", "user_id", "payload", "payload.order_id", "payload.cart_id", "payload.total", "event_version");

        return Gen.Frequency(
            (2, Gen.Byte.Array[0, 300].Select(bytes => Deliver("random bytes", bytes, usable: false))),
            (2, Gen.Int[1, 200].Select(cut =>
            {
                var envelope = Push.Envelope(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1"));
                return Deliver("truncated envelope", Encoding.UTF8.GetBytes(envelope[..Math.Min(cut, envelope.Length - 1)]), usable: false);
            })),
            (2, text.Select(garbage => Deliver("base64 of non-JSON", Push.EnvelopeOfData(Base64("{" + garbage)), usable: false))),
            (3, Gen.Select(requiredField, wrongValue, (field, value) =>
                // 12 is a fine total: the only mutation that leaves the event usable.
                Deliver($"wrong value for {field}", Push.Envelope(Mutate(field, value)), usable: field == "payload.total" && value?.ToJsonString() == "12"))),
            (2, Gen.OneOf(controlId, longId).Select(id =>
                Deliver("hostile id", Push.Envelope(Push.OrderPlaced(Push.NewId("e"), id, "u-1")), usable: false))),
            (1, exoticButValidId.Select(id =>
                Deliver("exotic but valid id", Push.Envelope(Push.OrderPlaced(Push.NewId("e"), id + Guid.NewGuid().ToString("N"), "u-1")), usable: true))),
            (1, Gen.OneOf("\\ud800", "\\udfff", "a\\ud83d", "\\u0000").Select(escape =>
                Deliver("escaped invalid text in an id", Push.EnvelopeOfData(Base64(
                    $$$"""{"event_id":"e{{{escape}}}","event_type":"order.placed","occurred_at":"2026-11-22T10:00:00Z","user_id":"u","payload":{"order_id":"o"}}""")),
                    usable: false))),
            (1, Gen.OneOf("\\ud800", "\\udc00x").Select(escape =>
                Deliver("escaped invalid text in the envelope", $$"""{"message":{"data":"e30=","messageId":"{{escape}}"},"subscription":"s"}""", usable: false))),
            (2, Gen.Select(loneSurrogate, Gen.Int[0, 3], (escape, where) => Deliver(
                "lone surrogate in a name",
                where switch
                {
                    0 => $$"""{"{{escape}}":1}""",
                    1 => $$"""{"message":{"data":"e30=","attributes":{"{{escape}}":"v"},"messageId":"1"},"subscription":"s"}""",
                    2 => Push.EnvelopeOfData(Base64($$"""{"{{escape}}":1,"event_id":"e","event_type":"order.placed"}""")),
                    _ => Push.EnvelopeOfData(Base64(
                        $$$"""{"event_id":"{{{Push.NewId("e")}}}","event_type":"order.placed","occurred_at":"{{{Push.T0:O}}}","user_id":"u","payload":{"order_id":"o","{{{escape}}}":1}}""")),
                },
                usable: false))),
            (2, Gen.Select(routedType, Gen.OneOf(notRfc3339, outOfWindow), (type, occurredAt) =>
            {
                var @event = Push.Event(type, Push.NewId("e"), Push.T0, "u-1", new JsonObject { ["cart_id"] = Push.NewId("c"), ["order_id"] = Push.NewId("o") });
                @event["occurred_at"] = occurredAt;
                return Deliver("occurred_at out of window or not RFC 3339", Push.Envelope(@event), usable: false);
            })),
            (2, Gen.Select(routedType, invisibleId, (type, id) =>
                Deliver("invisible character in an id", Push.Envelope(Push.Event(type, Push.NewId("e"), Push.T0, "u-1",
                    new JsonObject { ["cart_id"] = id, ["order_id"] = id })), usable: false))),
            (1, Gen.Byte[0x80, 0xFF].Select(bad =>
            {
                var json = Encoding.UTF8.GetBytes(Push.CartUpdated(Push.NewId("e"), Push.NewId("c"), "u-1", Push.T0).ToJsonString().Replace("\"tests\"", "\"tXsts\""));
                json[json.AsSpan().IndexOf("tXsts"u8) + 1] = bad;
                return Deliver("invalid UTF-8 in a field nobody reads", Push.EnvelopeOfData(Convert.ToBase64String(json)), usable: false);
            })),
            (1, Gen.Int[-2_048, 2_048].Select(delta =>
            {
                // Around the 1 MiB limit: under it quarantined (the body kept), over it refused with 413.
                var padding = new string('x', 1_048_576 - 200 + delta);
                return Deliver("about 1 MiB", $$$"""{"message":{"data":"!!","messageId":"big","attributes":{"pad":"{{{padding}}}"}},"subscription":"s"}""", usable: false);
            })),
            (1, Gen.Int[33, 20_000].Select(depth =>
                Deliver("depth bomb", Push.EnvelopeOfData(Base64(new string('[', depth) + new string(']', depth))), usable: false))),
            (1, Gen.Int[33, 2_000].Select(depth =>
                Deliver("envelope depth bomb", "{\"message\":" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth + 1), usable: false))),
            (1, printable.Select(id =>
                Deliver("duplicate keys", Push.EnvelopeOfData(Base64($$"""{"event_id":"{{Json(id)}}","event_id":"x","event_type":"order.placed"}""")), usable: false))),
            (1, Gen.Int[101, 400].Select(count =>
            {
                var envelope = JsonNode.Parse(Push.Envelope(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1")))!;
                var attributes = new JsonObject();
                for (var i = 0; i < count; i++)
                {
                    attributes[$"a{i}"] = "v";
                }

                envelope["message"]!["attributes"] = attributes;
                return Deliver("attribute flood", envelope.ToJsonString(), usable: false);
            })),
            (1, Gen.Select(printable, printable, (messageId, subscription) => new Hostile(
                "unwrapped with odd metadata",
                Encoding.UTF8.GetBytes(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1").ToJsonString()),
                [("x-goog-pubsub-message-id", messageId), ("x-goog-pubsub-subscription-name", subscription), ("x-goog-pubsub-publish-time", "not-a-time")],
                Usable: true))));
    }

    private static JsonNode Mutate(string field, JsonNode? value)
    {
        var node = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1", cartId: Push.NewId("c"));
        var (parent, name) = field.StartsWith("payload.") ? (node["payload"]!.AsObject(), field["payload.".Length..]) : (node, field);
        parent[name] = value?.DeepClone();
        return node;
    }

    private static Hostile Deliver(string kind, string body, bool usable) => Deliver(kind, Encoding.UTF8.GetBytes(body), usable);

    private static Hostile Deliver(string kind, byte[] body, bool usable) => new(kind, body, [], usable);

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string Json(string text) => System.Text.Json.JsonEncodedText.Encode(text).ToString();
}
