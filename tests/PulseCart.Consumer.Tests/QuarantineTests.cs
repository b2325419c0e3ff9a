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
        var entries = await fixture.Client.QuarantinedAsync();
        var entry = Assert.Single(entries, e => e.GetProperty("body_truncated").GetBoolean()
            ? body.StartsWith(e.GetProperty("body_preview").GetString()!, StringComparison.Ordinal)
            : e.GetProperty("body_preview").GetString() == body);
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

        var bodies = (await fixture.Client.QuarantinedAsync())
            .Select(entry => entry.GetProperty("body_preview").GetString()).ToList();

        Assert.True(bodies.IndexOf(second) < bodies.IndexOf(first));
    }

    [Fact]
    public async Task NonUtf8BodyIsKeptAsBase64()
    {
        byte[] body = [0xff, 0xfe, 0x00, 0x41];
        var response = await fixture.Client.PostAsync("/consumer/push", new ByteArrayContent(body));

        Assert.Equal("quarantined", response.Outcome());
        var entries = await fixture.Client.QuarantinedAsync();
        Assert.Contains(entries, entry =>
            entry.GetProperty("body_encoding").GetString() == "base64"
            && entry.GetProperty("body_preview").GetString() == Convert.ToBase64String(body));
    }

    [Fact]
    public async Task TheQuarantineStaysWithinItsByteBoundEvictingTheOldestAndCountingThem()
    {
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?> { ["PulseCart:Quarantine:MaxBytes"] = "1048576" });
        var client = consumer.CreateClient();
        var bodies = Enumerable.Range(0, 5).Select(i => Unusable(300_000, $"body-{i}")).ToList();
        foreach (var body in bodies)
        {
            Assert.Equal("quarantined", (await client.SendAsync(body)).Outcome());
        }

        var page = await client.GetJsonAsync("/ops/quarantine");
        var stats = page.GetProperty("stats");
        var kept = page.GetProperty("entries").EnumerateArray().Select(entry => entry.GetProperty("body_bytes").GetInt32()).ToList();
        Assert.Equal(3, kept.Count);
        Assert.Equal(3, stats.GetProperty("entries").GetInt64());
        Assert.Equal(2, stats.GetProperty("evicted").GetInt64());
        Assert.Equal(kept.Sum(), stats.GetProperty("bytes").GetInt64());
        Assert.True(stats.GetProperty("bytes").GetInt64() <= 1_048_576);
        var previews = page.GetProperty("entries").EnumerateArray().Select(entry => entry.GetProperty("body_preview").GetString()!).ToList();
        Assert.StartsWith(bodies[4][..100], previews[0]);
        Assert.DoesNotContain(previews, preview => preview.StartsWith(bodies[0][..100], StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALargeBodyIsListedAsAPreviewAndKeptWholeAtItsOwnUrl()
    {
        var body = Unusable(200_000, Push.NewId("large"));
        Assert.Equal("quarantined", (await fixture.Client.SendAsync(body)).Outcome());

        var entry = Assert.Single(await fixture.Client.QuarantinedAsync(), e => body.StartsWith(e.GetProperty("body_preview").GetString()!, StringComparison.Ordinal));

        Assert.True(entry.GetProperty("body_truncated").GetBoolean());
        Assert.Equal(Encoding.UTF8.GetByteCount(body), entry.GetProperty("body_bytes").GetInt32());
        Assert.True(entry.GetProperty("body_preview").GetString()!.Length <= 2_048);
        var whole = await fixture.Client.GetByteArrayAsync($"/ops/quarantine/{entry.GetProperty("id").GetString()}/body");
        Assert.Equal(Encoding.UTF8.GetBytes(body), whole);
    }

    [Fact]
    public async Task TheListingPagesNewestFirst()
    {
        await using var consumer = new ConsumerFactory();
        var client = consumer.CreateClient();
        var bodies = Enumerable.Range(0, 5).Select(i => Push.EnvelopeOfData($"!!{i}")).ToList();
        foreach (var body in bodies)
        {
            await client.SendAsync(body);
        }

        var first = await client.GetJsonAsync("/ops/quarantine?limit=2");
        var second = await client.GetJsonAsync($"/ops/quarantine?limit=2&offset={first.GetProperty("next_offset").GetInt32()}");

        static IEnumerable<string> Previews(System.Text.Json.JsonElement page) =>
            page.GetProperty("entries").EnumerateArray().Select(entry => entry.GetProperty("body_preview").GetString()!);
        Assert.Equal([bodies[4], bodies[3], bodies[2], bodies[1]], Previews(first).Concat(Previews(second)));
        Assert.Equal(5, first.GetProperty("stats").GetProperty("entries").GetInt64());
    }

    /// <summary>A push of about <paramref name="size"/> bytes that can never be used (its data is not base64).</summary>
    private static string Unusable(int size, string tag) =>
        $$$"""{"message":{"data":"!!","messageId":"{{{tag}}}","attributes":{"pad":"{{{new string('x', size)}}}"}},"subscription":"s"}""";
}
