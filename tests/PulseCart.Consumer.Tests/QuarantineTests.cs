using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PulseCart.Consumer.Tests;

/// <summary>Every class of unusable delivery is acknowledged (so Pub/Sub stops) and kept with its reason.</summary>
public sealed class QuarantineTests(ConsumerFixture fixture) : IClassFixture<ConsumerFixture>
{
    public static TheoryData<string, string, string> UnusableBodies()
    {
        static string Data(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
        static string Event(Action<JsonObject> change)
        {
            var node = Push.OrderPlaced("e-" + Guid.NewGuid().ToString("N"), "o-1", "u-1");
            change(node);
            return Data(node.ToJsonString());
        }

        return new()
        {
            { "bad base64", Push.EnvelopeOfData("!!not base64!!"), "not valid base64" },
            { "data missing", """{"message":{"messageId":"1"},"subscription":"s"}""", "message.data is missing" },
            { "data not json", Push.EnvelopeOfData(Data("hello, world")), "not valid JSON" },
            { "truncated json", Push.EnvelopeOfData(Data("""{"event_id":"e1","event_type":"order.pl""")), "not valid JSON" },
            { "json array", Push.EnvelopeOfData(Data("[1,2,3]")), "must be a JSON object" },
            { "event_id missing", Push.EnvelopeOfData(Event(e => e.Remove("event_id"))), "event_id is missing" },
            { "event_id number", Push.EnvelopeOfData(Event(e => e["event_id"] = 12)), "event_id must be a string" },
            { "event_type missing", Push.EnvelopeOfData(Event(e => e.Remove("event_type"))), "event_type is missing" },
            { "order_id missing", Push.EnvelopeOfData(Event(e => e["payload"]!.AsObject().Remove("order_id"))), "payload.order_id is missing" },
            { "cart_id control char", Push.EnvelopeOfData(Event(e => e["payload"]!["cart_id"] = "c\u0001")), "control characters" },
            { "order_id too long", Push.EnvelopeOfData(Event(e => e["payload"]!["order_id"] = new string('o', 201))), "longer than 200" },
            { "payload missing", Push.EnvelopeOfData(Event(e => e.Remove("payload"))), "payload is missing" },
            { "occurred_at bad", Push.EnvelopeOfData(Event(e => e["occurred_at"] = "yesterday")), "occurred_at" },
            { "user_id missing", Push.EnvelopeOfData(Event(e => e.Remove("user_id"))), "user_id is missing" },
            { "future version", Push.EnvelopeOfData(Event(e => e["event_version"] = 2)), "event_version 2 is not supported" },
            { "negative total", Push.EnvelopeOfData(Event(e => e["payload"]!["total"] = -1)), "payload.total" },
            { "duplicate keys", Push.EnvelopeOfData(Data("""{"event_id":"a","event_id":"b","event_type":"order.placed"}""")), "not valid JSON" },
            { "depth bomb", Push.EnvelopeOfData(Data(new string('[', 5000) + new string(']', 5000))), "not valid JSON" },
            { "unwrapped garbage", "this is not json", "not valid JSON" },
        };
    }

    [Theory]
    [MemberData(nameof(UnusableBodies))]
    public async Task UnusableDeliveryIsAcknowledgedAndKeptWithItsReason(string name, string body, string reason)
    {
        var response = await fixture.Client.SendAsync(body);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("quarantined", response.Outcome());
        var entries = await fixture.Client.GetJsonAsync("/ops/quarantine?limit=1000");
        var entry = Assert.Single(entries.EnumerateArray(), e => e.GetProperty("raw_body").GetString() == body);
        Assert.Contains(reason, entry.GetProperty("reason").GetString());
        Assert.True(entry.TryGetProperty("received_at", out _), name);
    }

    [Fact]
    public async Task QuarantineListsNewestFirst()
    {
        var first = Push.EnvelopeOfData("###", Push.NewId("m"));
        var second = Push.EnvelopeOfData("%%%", Push.NewId("m"));
        await fixture.Client.SendAsync(first);
        await fixture.Client.SendAsync(second);

        var bodies = (await fixture.Client.GetJsonAsync("/ops/quarantine?limit=1000")).EnumerateArray()
            .Select(entry => entry.GetProperty("raw_body").GetString()).ToList();

        Assert.True(bodies.IndexOf(second) < bodies.IndexOf(first));
    }

    [Fact]
    public async Task NonUtf8BodyIsKeptAsBase64()
    {
        byte[] body = [0xff, 0xfe, 0x00, 0x41];
        var response = await fixture.Client.PostAsync("/consumer/push", new ByteArrayContent(body));

        Assert.Equal("quarantined", response.Outcome());
        var entries = await fixture.Client.GetJsonAsync("/ops/quarantine?limit=1000");
        Assert.Contains(entries.EnumerateArray(), entry =>
            entry.GetProperty("raw_body_encoding").GetString() == "base64"
            && entry.GetProperty("raw_body").GetString() == Convert.ToBase64String(body));
    }
}
