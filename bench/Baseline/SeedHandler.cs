using System.Text.Json;
using StackExchange.Redis;

namespace PulseCart.Bench.Baseline;

/// <summary>
/// The seed's whole push path: decode, <c>GET processed:{event_id}</c>, send (or create the abandonment's reminder
/// task), <c>SET processed:{event_id}</c>. No grains, no state beyond the processed flag, no quarantine: bad input is
/// a plain 400.
/// </summary>
public sealed class SeedHandler(IConnectionMultiplexer redis, MessageFile messages, ReminderTasks reminders, TimeProvider time)
{
    private static readonly TimeSpan Remember = TimeSpan.FromDays(8);

    public async Task<IResult> HandleAsync(HttpContext http)
    {
        SeedEvent? seedEvent;
        try
        {
            using var envelope = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            seedEvent = SeedEvent.FromEnvelope(envelope.RootElement);
        }
        catch (Exception exception) when (exception is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            seedEvent = null;
        }

        if (seedEvent is null)
        {
            return TypedResults.BadRequest();
        }

        var database = redis.GetDatabase();
        var processedKey = "processed:" + seedEvent.EventId;
        if ((await database.StringGetAsync(processedKey)).HasValue)
        {
            http.Response.Headers["X-PulseCart-Outcome"] = "duplicate";
            return TypedResults.NoContent();
        }

        // The race: between the GET above and the SET below, a concurrent delivery of the same event also sends.
        if (seedEvent.ToMessage(time.GetUtcNow()) is { } message)
        {
            await messages.AppendAsync(message);
        }

        if (seedEvent.EventType == "cart.abandoned" && !await reminders.CreateAsync(seedEvent, http.RequestAborted))
        {
            return TypedResults.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }

        await database.StringSetAsync(processedKey, "1", Remember);
        http.Response.Headers["X-PulseCart-Outcome"] = "processed";
        return TypedResults.NoContent();
    }
}
