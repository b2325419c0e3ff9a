using System.Text;
using PulseCart.Abstractions.Events;
using PulseCart.Consumer.Events;

namespace PulseCart.Consumer.Tests;

public class EventParserTests
{
    // RecentlyRouted keeps the type of each delivery it remembers: one shared string, not one per delivery.
    [Theory]
    [InlineData(EventTypes.CartUpdated, """{"cart_id":"c-1"}""")]
    [InlineData(EventTypes.OrderPlaced, """{"order_id":"o-1","cart_id":"c-1"}""")]
    public void ARoutedEventsTypeIsTheSharedConstantNotAStringPerDelivery(string eventType, string payload)
    {
        var first = Parse(eventType, payload, "e-1");
        var second = Parse(eventType, payload, "e-2");

        Assert.Null(first.Rejection);
        Assert.NotNull(first.Routed);
        Assert.Same(EventTypes.Routed(eventType), first.EventType);
        Assert.Same(first.EventType, second.EventType);
    }

    [Fact]
    public void AnUnroutedTypeIsKeptAsSent()
    {
        var parsed = Parse("cart.viewed", "{}", "e-3");

        Assert.Null(parsed.Routed);
        Assert.Null(parsed.Rejection);
        Assert.Equal("cart.viewed", parsed.EventType);
    }

    private static ParsedEvent Parse(string eventType, string payload, string eventId) =>
        EventParser.Parse(Encoding.UTF8.GetBytes($$"""
            {"event_id":"{{eventId}}","event_type":"{{eventType}}","event_version":1,"user_id":"u-1",
             "occurred_at":"2026-12-03T10:00:00Z","payload":{{payload}}}
            """), EventTimeWindow.Any);
}
