using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PulseCart.Consumer.Emulators;
using PulseCart.Emulators.PubSub;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.PubSub.Tests;

/// <summary>
/// The laptop quick start as a test: the real consumer with its embedded emulators, OIDC verification on, and one
/// publish to the default topic; the emulator pushes to <c>/consumer/push</c> over real HTTP with a signed token.
/// </summary>
public sealed class ConsumerEndToEndTests
{
    [Fact]
    public async Task OrderPlacedPublishedToTheDefaultTopicSendsExactlyOneConfirmation()
    {
        await using var consumer = new EmbeddedConsumer();
        using var client = consumer.CreateClient();
        var orderId = $"o-{Guid.NewGuid():N}";

        // Pushes need a token: an anonymous one is refused, so a delivered message proves the emulator's token verified.
        using var anonymous = await client.PostAsync("/consumer/push", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes(EmbeddedConsumer.OrderPlaced(orderId)));
        using var published = await client.PostAsync(
            $"/emulators/pubsub/v1/{EmbeddedPubSub.Topic}:publish",
            new StringContent($$"""{"messages":[{"data":"{{data}}"}]}""", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        var messageId = (await published.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messageIds")[0].GetString();

        var attempt = await consumer.AcknowledgementAsync(messageId!);
        Assert.Equal((EmbeddedPubSub.Subscription, 204, 1), (attempt.Subscription, attempt.StatusCode, attempt.DeliveryAttempt));
        await consumer.Emulator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var sent = Assert.Single(consumer.SentMessages());
        Assert.Equal("order_confirmation", sent.GetProperty("template").GetString());
        Assert.Equal($"order_confirmation:{orderId}", sent.GetProperty("idempotency_key").GetString());
        Assert.Single(consumer.Emulator.Attempts);
        Assert.Empty(consumer.Emulator.MessagesOf(EmbeddedPubSub.DeadLetterTopic));
    }
}
