using System.Text.Json.Serialization;

namespace PulseCart.Google.CloudTasks;

/// <summary>
/// The body Cloud Tasks POSTs to <c>/tasks/cart-reminder</c> when a reminder is due. On the wire it is snake_case JSON;
/// read and write it with <see cref="CartReminderJsonContext"/>.
/// </summary>
public sealed record CartReminderCallback(
    string ReminderId,
    string CartId,
    string UserId,
    string EventId,
    DateTimeOffset DueAt);

/// <summary>System.Text.Json source generation for <see cref="CartReminderCallback"/> (snake_case, as the event contract).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CartReminderCallback))]
public sealed partial class CartReminderJsonContext : JsonSerializerContext;
