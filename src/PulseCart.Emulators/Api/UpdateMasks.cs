using System.Collections;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace PulseCart.Emulators.Api;

/// <summary>Applies an <c>update_mask</c> the way Google's update methods do: each named field is replaced as a whole.</summary>
internal static class UpdateMasks
{
    /// <summary>
    /// Copies every field <paramref name="mask"/> names from <paramref name="source"/> to <paramref name="destination"/>;
    /// a field unset in the source is cleared. Top-level fields are copied here because <see cref="FieldMask.Merge(IMessage, IMessage)"/>
    /// cannot copy a map field; nested paths (<c>retry_config.max_attempts</c>) go through it.
    /// </summary>
    public static void Apply(FieldMask mask, IMessage source, IMessage destination)
    {
        var options = new FieldMask.MergeOptions { ReplaceMessageFields = true, ReplaceRepeatedFields = true };
        foreach (var path in mask.Paths)
        {
            if (path.Contains('.', StringComparison.Ordinal))
            {
                new FieldMask { Paths = { path } }.Merge(source, destination, options);
                continue;
            }

            var field = destination.Descriptor.FindFieldByName(path) ?? throw ApiException.InvalidArgument($"Invalid update_mask path '{path}'.");
            var accessor = field.Accessor;
            if (field.IsMap || field.IsRepeated)
            {
                accessor.Clear(destination);
                if (field.IsMap)
                {
                    var map = (IDictionary)accessor.GetValue(destination);
                    foreach (DictionaryEntry entry in (IDictionary)accessor.GetValue(source))
                    {
                        map[entry.Key] = entry.Value;
                    }
                }
                else
                {
                    var list = (IList)accessor.GetValue(destination);
                    foreach (var item in (IList)accessor.GetValue(source))
                    {
                        list.Add(item);
                    }
                }
            }
            else if (field.FieldType == Google.Protobuf.Reflection.FieldType.Message && !accessor.HasValue(source))
            {
                accessor.Clear(destination);
            }
            else
            {
                accessor.SetValue(destination, accessor.GetValue(source));
            }
        }
    }
}
