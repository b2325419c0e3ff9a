using System.Text.Json;
using Google.Protobuf.Reflection;
using PulseCart.GoogleApis.CloudTasks.V2;
using PulseCart.GoogleApis.PubSub.V1;
using PulseCart.OfficialClients.Tests.Support;

namespace PulseCart.OfficialClients.Tests;

/// <summary>
/// Our .proto files hold facts about Google's APIs; the descriptors Google's own Node clients ship (protobufjs JSON,
/// <c>build/protos/protos.json</c>) are the reference. Every message, enum and method we define must match them field by
/// field: a wrong number or type would corrupt gRPC traffic silently.
/// </summary>
public sealed class ProtoContractTests
{
    [Fact]
    public void CloudTasksContractsMatchTheDescriptorsOfGooglesNodeClient()
    {
        var checkedItems = Compare("@google-cloud/tasks", TasksResourcesReflection.Descriptor, TasksServiceReflection.Descriptor);

        Assert.True(checkedItems > 100, $"only {checkedItems} fields, values and methods were compared");
    }

    [Fact]
    public void PubSubContractsMatchTheDescriptorsOfGooglesNodeClient()
    {
        var checkedItems = Compare("@google-cloud/pubsub", PubsubSubsetReflection.Descriptor);

        Assert.True(checkedItems > 100, $"only {checkedItems} fields, values and methods were compared");
    }

    private static int Compare(string package, params FileDescriptor[] files)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Tools.ClientsFolder, "node_modules", package, "build", "protos", "protos.json")));
        var problems = new List<string>();
        var compared = 0;
        foreach (var file in files)
        {
            foreach (var message in file.MessageTypes)
            {
                compared += CompareMessage(document.RootElement, message, problems);
            }

            foreach (var enumType in file.EnumTypes)
            {
                compared += CompareEnum(document.RootElement, enumType, problems);
            }

            foreach (var service in file.Services)
            {
                compared += CompareService(document.RootElement, service, problems);
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
        return compared;
    }

    private static int CompareMessage(JsonElement root, MessageDescriptor message, List<string> problems)
    {
        if (Find(root, message.FullName) is not { } reference)
        {
            problems.Add($"{message.FullName}: no such message in Google's descriptors");
            return 0;
        }

        var compared = 0;
        var fields = reference.TryGetProperty("fields", out var found) ? found : default;
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            compared++;
            var where = $"{message.FullName}.{field.Name}";
            if (fields.ValueKind != JsonValueKind.Object || !fields.TryGetProperty(field.JsonName, out var expected))
            {
                problems.Add($"{where}: Google's {message.Name} has no field {field.JsonName}");
                continue;
            }

            if (expected.GetProperty("id").GetInt32() != field.FieldNumber)
            {
                problems.Add($"{where}: number {field.FieldNumber}, Google's is {expected.GetProperty("id").GetInt32()}");
            }

            var repeated = expected.TryGetProperty("rule", out var rule) && rule.GetString() == "repeated";
            if (repeated != (field.IsRepeated && !field.IsMap))
            {
                problems.Add($"{where}: repeated is {field.IsRepeated && !field.IsMap}, Google's is {repeated}");
            }

            var isMap = expected.TryGetProperty("keyType", out var keyType);
            if (isMap != field.IsMap || (isMap && keyType.GetString() != TypeName(field.MessageType.FindFieldByNumber(1))))
            {
                problems.Add($"{where}: map {field.IsMap}, Google's is {(isMap ? $"map<{keyType.GetString()}, …>" : "not a map")}");
            }

            var ours = field.IsMap ? field.MessageType.FindFieldByNumber(2) : field;
            if (!SameType(ours, expected.GetProperty("type").GetString()!))
            {
                problems.Add($"{where}: type {TypeName(ours)}, Google's is {expected.GetProperty("type").GetString()}");
            }

            if (field.RealContainingOneof is { } oneof && !InOneof(reference, Camel(oneof.Name), field.JsonName))
            {
                problems.Add($"{where}: in oneof {oneof.Name}, which Google's does not put it in");
            }
        }

        foreach (var nested in message.NestedTypes.Where(nested => !nested.IsMapEntry))
        {
            compared += CompareMessage(root, nested, problems);
        }

        foreach (var nested in message.EnumTypes)
        {
            compared += CompareEnum(root, nested, problems);
        }

        return compared;
    }

    private static int CompareEnum(JsonElement root, EnumDescriptor enumType, List<string> problems)
    {
        if (Find(root, enumType.FullName) is not { } reference || !reference.TryGetProperty("values", out var values))
        {
            problems.Add($"{enumType.FullName}: no such enum in Google's descriptors");
            return 0;
        }

        foreach (var value in enumType.Values)
        {
            if (!values.TryGetProperty(value.Name, out var number) || number.GetInt32() != value.Number)
            {
                problems.Add($"{enumType.FullName}.{value.Name} = {value.Number}: Google's is {(values.TryGetProperty(value.Name, out var other) ? other.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture) : "missing")}");
            }
        }

        return enumType.Values.Count;
    }

    private static int CompareService(JsonElement root, ServiceDescriptor service, List<string> problems)
    {
        if (Find(root, service.FullName) is not { } reference)
        {
            problems.Add($"{service.FullName}: no such service in Google's descriptors");
            return 0;
        }

        foreach (var method in service.Methods)
        {
            var where = $"{service.FullName}.{method.Name}";
            if (!reference.GetProperty("methods").TryGetProperty(method.Name, out var expected))
            {
                problems.Add($"{where}: Google's service has no such method");
                continue;
            }

            if (!SameName(method.InputType.FullName, expected.GetProperty("requestType").GetString()!)
                || !SameName(method.OutputType.FullName, expected.GetProperty("responseType").GetString()!))
            {
                problems.Add($"{where}: {method.InputType.Name} → {method.OutputType.Name}, Google's is {expected.GetProperty("requestType")} → {expected.GetProperty("responseType")}");
            }

            if (method.IsClientStreaming != Flag(expected, "requestStream") || method.IsServerStreaming != Flag(expected, "responseStream"))
            {
                problems.Add($"{where}: streaming differs from Google's");
            }
        }

        return service.Methods.Count;
    }

    private static JsonElement? Find(JsonElement root, string fullName)
    {
        var node = root;
        foreach (var part in fullName.Split('.'))
        {
            if (!node.TryGetProperty("nested", out var nested) || !nested.TryGetProperty(part, out node))
            {
                return null;
            }
        }

        return node;
    }

    private static bool InOneof(JsonElement message, string oneof, string field) =>
        message.TryGetProperty("oneofs", out var oneofs)
        && oneofs.TryGetProperty(oneof, out var members)
        && members.GetProperty("oneof").EnumerateArray().Any(member => member.GetString() == field);

    private static bool Flag(JsonElement method, string name) => method.TryGetProperty(name, out var value) && value.GetBoolean();

    private static bool SameType(FieldDescriptor field, string expected) =>
        field.FieldType switch
        {
            FieldType.Message => SameName(field.MessageType.FullName, expected),
            FieldType.Enum => SameName(field.EnumType.FullName, expected),
            _ => TypeName(field) == expected,
        };

    // protobufjs names a type relative to where it is used: "Queue", "Task.View", "google.protobuf.Duration".
    private static bool SameName(string fullName, string reference) =>
        fullName == reference.TrimStart('.') || fullName.EndsWith($".{reference}", StringComparison.Ordinal);

    private static string TypeName(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Message => field.MessageType.FullName,
        FieldType.Enum => field.EnumType.FullName,
        _ => field.FieldType.ToString().ToLowerInvariant(),
    };

    private static string Camel(string snake)
    {
        var parts = snake.Split('_');
        return parts[0] + string.Concat(parts.Skip(1).Select(part => part.Length == 0 ? "" : char.ToUpperInvariant(part[0]) + part[1..]));
    }
}
