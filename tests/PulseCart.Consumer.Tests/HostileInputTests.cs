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
        var quarantinedBefore = (await quarantine.ListAsync(int.MaxValue)).Count;
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
        Assert.Equal(quarantinedBefore + quarantined, (await quarantine.ListAsync(int.MaxValue)).Count);
        Assert.Equal(cartBefore, (await client.GetJsonAsync($"/ops/carts/{cart}")).GetRawText());
        Assert.Equal(orderBefore, (await client.GetJsonAsync($"/ops/orders/{order}")).GetRawText());
        Assert.DoesNotContain(fixture.Factory.Logs.Lines, line => line.StartsWith("Error") || line.StartsWith("Critical"));
    }

    private static Gen<Hostile> HostileDeliveries()
    {
        var text = Gen.String[Gen.Char, 0, 40];
        var printable = Gen.String[Gen.Char[' ', '~'], 1, 60];
        var controlId = Gen.Select(printable, Gen.Char['\0', '\u001f'], Gen.Int[0, 30],
            (id, control, at) => id.Insert(Math.Min(at, id.Length), control.ToString()));
        var longId = Gen.Int[201, 2_000].Select(length => new string('x', length));
        var exoticButValidId = Gen.OneOf("🛒-cart", "كارت", "カート", "c\u200Bzero-width", "Ω≈ç√", "a/b?c#d", "%00%0a");

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
