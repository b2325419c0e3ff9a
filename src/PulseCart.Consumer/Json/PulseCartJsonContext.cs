using System.Text.Json;
using System.Text.Json.Serialization;
using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Orders;
using PulseCart.Consumer.Audit;
using PulseCart.Consumer.Charts;
using PulseCart.Grains.Messaging;
using PulseCart.Consumer.Ops;
using PulseCart.Consumer.Pause;
using PulseCart.Consumer.Quarantine;
using PulseCart.Google.CloudTasks;
using PulseCart.Consumer.Security;

namespace PulseCart.Consumer.Json;

/// <summary>Everything this service writes as JSON, in snake_case like the event contract.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(OutboundMessage))]
[JsonSerializable(typeof(QuarantineEntry))]
[JsonSerializable(typeof(LegacyQuarantineBody))]
[JsonSerializable(typeof(QuarantinePage))]
[JsonSerializable(typeof(CartView))]
[JsonSerializable(typeof(OrderView))]
[JsonSerializable(typeof(AuthProblem))]
[JsonSerializable(typeof(OpsSummary))]
[JsonSerializable(typeof(ReplayResult))]
[JsonSerializable(typeof(DiscardResult))]
[JsonSerializable(typeof(QuarantineSelection))]
[JsonSerializable(typeof(QuarantineGroups))]
[JsonSerializable(typeof(BulkJob))]
[JsonSerializable(typeof(IReadOnlyList<BulkJob>))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(AuditPage))]
[JsonSerializable(typeof(ChartData))]
[JsonSerializable(typeof(IReadOnlyList<PendingReminder>))]
[JsonSerializable(typeof(PauseState))]
[JsonSerializable(typeof(PauseView))]
public sealed partial class PulseCartJsonContext : JsonSerializerContext
{
    /// <summary>Options for HTTP responses: the generated context first, enum values in snake_case.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.TypeInfoResolverChain.Insert(0, Default);
    }
}
