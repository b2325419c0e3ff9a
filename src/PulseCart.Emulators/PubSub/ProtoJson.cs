using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using PulseCart.Emulators.CloudTasks;

namespace PulseCart.Emulators.PubSub;

/// <summary>
/// Reads request fields the way Google's proto3 JSON parser does, so whatever a Google client sends is understood:
/// lowerCamelCase or the proto's snake_case names, null as unset, integers as numbers or strings, enums as names or
/// numbers, bytes as standard or URL-safe base64, durations as <c>"10s"</c>. Fields it is not asked about are ignored.
/// Errors read like Google's: <c>Invalid value at 'subscription.ack_deadline_seconds' (TYPE_INT32), "x"</c>.
/// </summary>
internal static class ProtoJson
{
    private static readonly JsonElement[] NumberCache = [.. Enumerable.Range(0, 8).Select(number => Parse(number.ToString(CultureInfo.InvariantCulture)))];

    /// <summary>The field under its JSON or proto name, unless absent or null.</summary>
    public static bool TryGetField(JsonElement message, string camelName, out JsonElement value)
    {
        if ((message.TryGetProperty(camelName, out value) || message.TryGetProperty(SnakeCase(camelName), out value))
            && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    public static JsonElement? Message(JsonElement message, string camelName, string path)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object
            ? value
            : throw Invalid(path, camelName, "TYPE_MESSAGE", value);
    }

    public static string? String(JsonElement message, string camelName, string path)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw Invalid(path, camelName, "TYPE_STRING", value);
    }

    public static int? Int32(JsonElement message, string camelName, string path)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            return number;
        }

        if (value.ValueKind == JsonValueKind.String
            && int.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }

        // proto3 JSON also allows an integral value written with an exponent or a zero fraction (1e1, 10.0).
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var real) && real == Math.Floor(real)
            && real is >= int.MinValue and <= int.MaxValue)
        {
            return (int)real;
        }

        throw Invalid(path, camelName, "TYPE_INT32", value);
    }

    public static bool? Bool(JsonElement message, string camelName, string path)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when value.GetString() is "true" => true,
            JsonValueKind.String when value.GetString() is "false" => false,
            _ => throw Invalid(path, camelName, "TYPE_BOOL", value),
        };
    }

    public static TimeSpan? Duration(JsonElement message, string camelName, string path)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String && GoogleWireFormat.TryParseDuration(value.GetString()!, out var duration)
            ? duration
            : throw PubSubApiException.InvalidArgument(
                $"Invalid value at '{FieldPath(path, camelName)}' (type.googleapis.com/google.protobuf.Duration), {Raw(value)}: expected a duration such as \"10s\".");
    }

    public static byte[]? Bytes(JsonElement message, string camelName, string path)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Invalid(path, camelName, "TYPE_BYTES", value);
        }

        var text = value.GetString()!;
        var normalised = new StringBuilder(text.Length + 3).Append(text).Replace('-', '+').Replace('_', '/');
        while (normalised.Length % 4 != 0)
        {
            normalised.Append('=');
        }

        try
        {
            return Convert.FromBase64String(normalised.ToString());
        }
        catch (FormatException)
        {
            throw PubSubApiException.InvalidArgument(
                $"Invalid value at '{FieldPath(path, camelName)}' (TYPE_BYTES), Base64 decoding failed for {Raw(value)}");
        }
    }

    public static Dictionary<string, string>? StringMap(JsonElement message, string camelName, string path)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, camelName, "TYPE_MESSAGE", value);
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            map[entry.Name] = entry.Value.ValueKind == JsonValueKind.String
                ? entry.Value.GetString()!
                : throw Invalid($"{FieldPath(path, camelName)}", entry.Name, "TYPE_STRING", entry.Value);
        }

        return map;
    }

    public static IEnumerable<JsonElement> Repeated(JsonElement message, string camelName, string path)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return [];
        }

        return value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : throw PubSubApiException.InvalidArgument($"Invalid value at '{FieldPath(path, camelName)}': expected a list, got {Raw(value)}.");
    }

    /// <summary>Checks an enum field, by name or number; the value is not needed because the emulator ignores such fields.</summary>
    public static void Enum(JsonElement message, string camelName, string path, IReadOnlyList<string> names)
    {
        if (!TryGetField(message, camelName, out var value))
        {
            return;
        }

        var known = value.ValueKind switch
        {
            JsonValueKind.String => names.Contains(value.GetString()),
            JsonValueKind.Number => value.TryGetInt32(out var number) && number >= 0 && number < names.Count,
            _ => false,
        };
        if (!known)
        {
            throw Invalid(path, camelName, "TYPE_ENUM", value);
        }
    }

    /// <summary>An enum value for a response: its number when the caller asked for <c>enum-encoding=int</c>, else its name.</summary>
    public static JsonElement EnumValue(IReadOnlyList<string> names, string name, bool asNumber)
    {
        var number = names.ToList().IndexOf(name);
        return asNumber ? NumberCache[number] : JsonSerializer.SerializeToElement(name, ProtoJsonContext.Default.String);
    }

    /// <summary><c>ackDeadlineSeconds</c> → <c>ack_deadline_seconds</c>.</summary>
    public static string SnakeCase(string camelName)
    {
        var builder = new StringBuilder(camelName.Length + 4);
        foreach (var character in camelName)
        {
            if (char.IsUpper(character))
            {
                builder.Append('_').Append(char.ToLowerInvariant(character));
            }
            else
            {
                builder.Append(character);
            }
        }

        return builder.ToString();
    }

    private static string FieldPath(string path, string camelName) => $"{path}.{SnakeCase(camelName)}";

    private static PubSubApiException Invalid(string path, string camelName, string type, JsonElement value) =>
        PubSubApiException.InvalidArgument($"Invalid value at '{FieldPath(path, camelName)}' ({type}), {Raw(value)}");

    private static string Raw(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length <= 100 ? text : $"{text[..100]}…";
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}

[JsonSerializable(typeof(string))]
internal sealed partial class ProtoJsonContext : JsonSerializerContext;
