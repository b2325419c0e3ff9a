using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace PulseCart.Grains.Persistence;

/// <summary>
/// Stores grain state in Orleans' binary format, which the state classes' <c>[GenerateSerializer]</c> and <c>[Id]</c>
/// attributes describe. Orleans' default, Newtonsoft JSON with type names, was over a third of what a unique event
/// allocated (bench/README.md). State that earlier versions wrote as JSON still reads, and
/// becomes binary on the grain's next write. That JSON always starts with '{', and the binary form of a state class
/// never does (it starts with a field header), which GrainStateSerializerTests checks.
/// </summary>
public sealed class GrainStateSerializer(Serializer binary, IGrainStorageSerializer legacyJson) : IGrainStorageSerializer
{
    private readonly OrleansGrainStorageSerializer _binary = new(binary);

    public BinaryData Serialize<T>(T? input) => _binary.Serialize(input);

    public T? Deserialize<T>(BinaryData input) =>
        IsJson(input) ? legacyJson.Deserialize<T>(input) : _binary.Deserialize<T>(input);

    public static bool IsJson(BinaryData stored) => stored.ToMemory().Span is [(byte)'{', ..];
}

public static class GrainStateSerializerRegistration
{
    /// <summary>Makes a grain storage provider write <see cref="GrainStateSerializer"/>'s binary state.</summary>
    /// <remarks>The silo's default <see cref="IGrainStorageSerializer"/> (JSON) stays registered: it reads older state.</remarks>
    public static OptionsBuilder<TOptions> UseBinaryGrainState<TOptions>(this OptionsBuilder<TOptions> storage)
        where TOptions : class, IStorageProviderSerializerOptions =>
        storage.Configure<Serializer, IGrainStorageSerializer>(
            (options, binary, legacyJson) => options.GrainStorageSerializer = new GrainStateSerializer(binary, legacyJson));
}
