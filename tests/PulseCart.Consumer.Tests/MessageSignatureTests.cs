using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Consumer.Delivery;
using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Tests;

public sealed class MessageSignatureTests : IAsyncLifetime
{
    private const string Secret = "shared-publisher-secret";

    private readonly ConsumerFactory _consumer = new(new Dictionary<string, string?> { ["PulseCart:Push:SignatureSecret"] = Secret });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _consumer.DisposeAsync();

    [Theory]
    [InlineData("signed", "processed", null)]
    [InlineData("unsigned", "quarantined", "message signature missing")]
    [InlineData("mis-signed", "quarantined", "message signature does not match")]
    [InlineData("not hex", "quarantined", "message signature is not hex")]
    public async Task OnlyCorrectlySignedMessagesAreProcessed(string kind, string outcome, string? reason)
    {
        var client = _consumer.CreateClient();
        var order = Push.NewId("o");
        var data = Encoding.UTF8.GetBytes(Push.OrderPlaced(Push.NewId("e"), order, "u-1").ToJsonString());
        var signature = kind switch
        {
            "signed" => Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), data)),
            "mis-signed" => Convert.ToHexString(HMACSHA256.HashData("wrong"u8, data)),
            "not hex" => "zz-not-hex",
            _ => null,
        };
        var envelope = JsonNode.Parse(Push.EnvelopeOfData(Convert.ToBase64String(data)))!;
        if (signature is not null)
        {
            envelope["message"]!["attributes"]!["signature"] = signature;
        }

        var body = envelope.ToJsonString();
        var response = await client.SendAsync(body);

        Assert.Equal(outcome, response.Outcome());
        Assert.Equal(kind == "signed" ? 1 : 0, _consumer.SentWithKey($"order_confirmation:{order}").Count);
        if (reason is not null)
        {
            var entries = await client.QuarantinedAsync();
            var entry = Assert.Single(entries, e => e.GetProperty("body_preview").GetString() == body);
            Assert.Contains(reason, entry.GetProperty("reason").GetString());
        }
    }

    [Fact]
    public async Task AnUnwrappedSignedPushKeepsItsSignatureHeaderForItsReplay()
    {
        // An event from 3 s ahead with 1 s of clock skew allowed: quarantined now, fine once its time has come.
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?>
        {
            ["PulseCart:Push:SignatureSecret"] = Secret,
            ["PulseCart:Events:ClockSkew"] = "00:00:01",
        });
        var client = consumer.CreateClient();
        var order = Push.NewId("o");
        var data = Encoding.UTF8.GetBytes(Push.OrderPlaced(Push.NewId("e"), order, "u-1", at: DateTimeOffset.UtcNow.AddSeconds(3)).ToJsonString());
        var request = new HttpRequestMessage(HttpMethod.Post, "/consumer/push") { Content = new ByteArrayContent(data) };
        request.Headers.Add("signature", Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), data)));
        Assert.Equal("quarantined", (await client.SendAsync(request)).Outcome());
        var id = (await client.EntriesAsync($"order_id={order}")).Single().GetProperty("id").GetString()!;

        await Task.Delay(TimeSpan.FromSeconds(3));
        var replayed = await (await client.ActAsync(id, "replay")).JsonAsync();

        Assert.Equal("processed", replayed.GetProperty("outcome").GetString());
        Assert.Single(consumer.SentWithKey($"order_confirmation:{order}"));
    }

    [Fact]
    public async Task AnyPushsSignatureHeaderIsKeptNoLongerThanANameWhateverItsSize()
    {
        // Kestrel lets a header run to 32 KiB; kept whole, 10,000 entries' headers would be ~600 MiB outside the
        // quarantine's byte bound. No valid signature is anywhere near 512 characters.
        var client = _consumer.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/consumer/push") { Content = new StringContent("""{"message":{"data":"%%%"}}""") };
        request.Headers.Add("signature", new string('a', 30_000));
        Assert.Equal("quarantined", (await client.SendAsync(request)).Outcome());

        var id = (await client.QuarantinedAsync()).Single(entry => entry.GetProperty("body_preview").GetString()!.Contains("%%%")).GetProperty("id").GetString()!;
        var kept = await _consumer.Services.GetRequiredService<IQuarantine>().GetAsync(id);

        Assert.InRange(kept!.Signature!.Length, 1, ShownText.MaxNameChars + 1);
    }
}
