using Orleans.Serialization;
using Orleans.Storage;

namespace PulseCart.Grains.Persistence;

/// <summary>
/// Reads grain state as Orleans' Redis provider stored it in earlier versions: Orleans' binary format (which the state
/// classes' <c>[GenerateSerializer]</c> and <c>[Id]</c> attributes describe) or, before that, Newtonsoft JSON with type
/// names. That JSON always starts with '{', and the binary form of a state class never does (it starts with a field
/// header), which GrainStateSerializerTests checks. <see cref="PulseCartGrainStorage"/> replaces such state with its own
/// record on the grain's next write.
/// </summary>
public sealed class GrainStateSerializer(Serializer binary, IGrainStorageSerializer legacyJson) : IGrainStorageSerializer
{
    private readonly OrleansGrainStorageSerializer _binary = new(binary);

    public BinaryData Serialize<T>(T? input) => _binary.Serialize(input);

    public T? Deserialize<T>(BinaryData input) =>
        IsJson(input) ? legacyJson.Deserialize<T>(input) : _binary.Deserialize<T>(input);

    public static bool IsJson(BinaryData stored) => stored.ToMemory().Span is [(byte)'{', ..];
}
