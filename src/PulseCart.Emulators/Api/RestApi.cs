using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PulseCart.GoogleApis;
using StackExchange.Redis;

namespace PulseCart.Emulators.Api;

/// <summary>One REST method of an emulated API: an HTTP method, a path template and what answers it.</summary>
/// <param name="Method">GET, POST, PUT, PATCH or DELETE.</param>
/// <param name="Template">
/// The path after the API's prefix, for example <c>v2/projects/{project}/locations/{location}/queues/{queue}:pause</c>:
/// <c>{name}</c> matches one segment, and a <c>:verb</c> on the last segment must match exactly.
/// </param>
/// <param name="Handler">Reads the call and returns the response message.</param>
internal sealed record RestMethod(string Method, string Template, Func<RestCall, Task<IMessage>> Handler)
{
    private readonly string[] _segments = Template.Split('/');

    public bool TryMatch(IReadOnlyList<string> segments, string verb, out Dictionary<string, string> values)
    {
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        var (lastTemplate, templateVerb) = RestApi.SplitVerb(_segments[^1]);
        if (segments.Count != _segments.Length || verb != templateVerb)
        {
            return false;
        }

        for (var index = 0; index < segments.Count; index++)
        {
            var template = index == segments.Count - 1 ? lastTemplate : _segments[index];
            if (template.StartsWith('{'))
            {
                if (segments[index].Length == 0)
                {
                    return false;
                }

                values[template[1..^1]] = segments[index];
            }
            else if (!string.Equals(template, segments[index], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A REST call in progress: its path values, query and body, read the way Google's front end reads them.</summary>
internal sealed class RestCall(HttpContext http, IReadOnlyDictionary<string, string> path)
{
    // Pub/Sub's own publish limit is 10 MB of messages; the JSON and base64 around them need room too.
    private const int MaxRequestBytes = 14 * 1024 * 1024;

    // Standard query parameters of Google's APIs that are not request fields.
    private static readonly HashSet<string> SystemParameters = new(StringComparer.Ordinal)
    {
        "alt", "key", "fields", "prettyPrint", "access_token", "quotaUser", "callback", "upload_protocol", "uploadType",
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public HttpContext Http { get; } = http;

    public string this[string name] => path[name];

    public IServiceProvider Services => Http.RequestServices;

    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>The body as <typeparamref name="T"/> (empty when there is none), whatever its Content-Type says.</summary>
    public async Task<T> BodyAsync<T>()
        where T : IMessage<T>, new()
    {
        if (Http.Request.ContentLength > MaxRequestBytes)
        {
            throw TooLarge();
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await Http.Request.Body.ReadAsync(chunk, Aborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxRequestBytes)
            {
                throw TooLarge();
            }
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw ApiException.InvalidArgument("Invalid JSON payload received. The body is not valid UTF-8.");
        }

        return string.IsNullOrWhiteSpace(text) ? new T() : GoogleJson.Parse<T>(text);
    }

    /// <summary>Sets the request fields named in the query string (<c>?responseView=FULL&amp;pageSize=10</c>) on <paramref name="message"/>.</summary>
    public T WithQuery<T>(T message)
        where T : IMessage
    {
        var json = new JsonObject();
        foreach (var (key, values) in Http.Request.Query)
        {
            if (key.StartsWith('$') || SystemParameters.Contains(key))
            {
                continue;
            }

            var field = message.Descriptor.FindFieldByName(key)
                ?? message.Descriptor.Fields.InDeclarationOrder().FirstOrDefault(candidate => candidate.JsonName == key);
            if (field is null)
            {
                throw ApiException.InvalidArgument($"Invalid JSON payload received. Unknown name \"{key}\": Cannot bind query parameter.");
            }

            json[field.JsonName] = field.IsRepeated
                ? new JsonArray([.. values.Select(value => QueryValue(field, value ?? ""))])
                : QueryValue(field, values.LastOrDefault() ?? "");
        }

        if (json.Count > 0)
        {
            message.MergeFrom(GoogleJson.Parse(json.ToJsonString(), message.Descriptor).ToByteArray());
        }

        return message;
    }

    private static JsonNode? QueryValue(FieldDescriptor field, string text) => field.FieldType switch
    {
        // A query string has no types: enums may come as names or numbers, bools as words.
        FieldType.Enum when int.TryParse(text, out var number) => JsonValue.Create(number),
        FieldType.Bool when bool.TryParse(text, out var flag) => JsonValue.Create(flag),
        _ => JsonValue.Create(text),
    };

    private static ApiException TooLarge() =>
        ApiException.InvalidArgument($"Request payload size exceeds the limit: {MaxRequestBytes} bytes.");
}

/// <summary>Proto3 JSON as Google's REST APIs speak it, through Google.Protobuf.</summary>
internal static class GoogleJson
{
    // Unknown fields are ignored so that fields newer than these contracts (or than the twin) never fail a call. That
    // setting also drops an unknown enum name, which Google refuses: the strict parser, tried first, catches those.
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));
    private static readonly JsonParser StrictParser = new(JsonParser.Settings.Default);
    private static readonly JsonFormatter NamedEnums = new(JsonFormatter.Settings.Default);
    private static readonly JsonFormatter NumberedEnums = new(JsonFormatter.Settings.Default.WithFormatEnumsAsIntegers(true));

    public static T Parse<T>(string json)
        where T : IMessage<T>, new() => (T)Parse(json, new T().Descriptor);

    public static IMessage Parse(string json, MessageDescriptor descriptor)
    {
        try
        {
            try
            {
                return StrictParser.Parse(json, descriptor);
            }
            catch (InvalidProtocolBufferException exception) when (!exception.Message.StartsWith("Invalid enum value", StringComparison.Ordinal))
            {
                // An unknown field (or a form the lenient pass below reads): parse again, ignoring it.
            }

            try
            {
                return Parser.Parse(json, descriptor);
            }
            catch (InvalidProtocolBufferException exception)
                when (exception.Message.Contains("base64", StringComparison.OrdinalIgnoreCase) || exception.Message.Contains("field mask", StringComparison.OrdinalIgnoreCase))
            {
                // Google's front end also reads URL-safe or unpadded base64 and snake_case field masks (the Node
                // clients' REST transport sends those); Google.Protobuf reads only the canonical forms.
                return Parser.Parse(Canonical(json, descriptor), descriptor);
            }
        }
        catch (Exception exception) when (exception is InvalidProtocolBufferException or InvalidJsonException or FormatException or ArgumentException or InvalidOperationException or System.Text.Json.JsonException)
        {
            throw ApiException.InvalidArgument($"Invalid JSON payload received. {exception.Message}");
        }
    }

    private static string Canonical(string json, MessageDescriptor descriptor)
    {
        var root = JsonNode.Parse(json);
        if (root is JsonObject message)
        {
            MakeCanonical(message, descriptor);
        }

        return root?.ToJsonString() ?? json;
    }

    private static void MakeCanonical(JsonObject message, MessageDescriptor descriptor)
    {
        foreach (var (name, value) in message.ToList())
        {
            var field = descriptor.FindFieldByName(name) ?? descriptor.Fields.InDeclarationOrder().FirstOrDefault(candidate => candidate.JsonName == name);
            if (field is null || value is null)
            {
                continue;
            }

            var elements = field.IsMap && value is JsonObject map
                ? map.Select(entry => (Node: entry.Value, Field: field.MessageType.FindFieldByNumber(2), Set: (Action<JsonNode>)(normalized => map[entry.Key] = normalized))).ToList()
                : field.IsRepeated && value is JsonArray array
                    ? array.Select((element, index) => (Node: element, Field: field, Set: (Action<JsonNode>)(normalized => array[index] = normalized))).ToList()
                    : [(Node: value, Field: field, Set: (Action<JsonNode>)(normalized => message[name] = normalized))];
            foreach (var (node, elementField, set) in elements)
            {
                if (elementField.FieldType == FieldType.Bytes && node is JsonValue text && text.TryGetValue<string>(out var encoded))
                {
                    var standard = encoded.Replace('-', '+').Replace('_', '/');
                    set(JsonValue.Create(standard.PadRight(standard.Length + ((4 - (standard.Length % 4)) % 4), '='))!);
                }
                else if (elementField.FieldType == FieldType.Message && elementField.MessageType.FullName == FieldMask.Descriptor.FullName
                    && node is JsonValue maskText && maskText.TryGetValue<string>(out var mask))
                {
                    set(JsonValue.Create(string.Join(',', mask.Split(',').Select(CamelCasePath)))!);
                }
                else if (elementField.FieldType == FieldType.Message && node is JsonObject nested)
                {
                    MakeCanonical(nested, elementField.MessageType);
                }
            }
        }
    }

    // retry_config.max_attempts → retryConfig.maxAttempts
    private static string CamelCasePath(string path) =>
        string.Join('.', path.Split('.').Select(segment =>
        {
            var words = segment.Split('_');
            return words[0] + string.Concat(words.Skip(1).Select(word => word.Length == 0 ? "" : char.ToUpperInvariant(word[0]) + word[1..]));
        }));

    public static string Format(IMessage message, bool enumsAsNumbers = false) =>
        (enumsAsNumbers ? NumberedEnums : NamedEnums).Format(message);

    /// <summary>A time as proto3 JSON writes a <c>Timestamp</c> (RFC 3339, UTC, 0/3/6/9 fractional digits), without quotes.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        NamedEnums.Format(Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time)).Trim('"');
}

internal static class RestApi
{
    /// <summary>
    /// Serves <paramref name="methods"/> under <c>{prefix}/{version}/…</c>. Google's other methods of the same API answer
    /// 501 UNIMPLEMENTED, and anything else under the prefix (or, with an empty prefix, under <c>/{version}/</c>) Google's
    /// 404 error body rather than an empty one.
    /// </summary>
    public static RouteGroupBuilder MapRestApi(this IEndpointRouteBuilder endpoints, string prefix, string version, string apiName, IReadOnlyList<RestMethod> methods)
    {
        var group = endpoints.MapGroup(prefix).ExcludeFromDescription();

        // The served methods come first, so they win over Google's entry for the same path.
        IReadOnlyList<RestMethod> answered = [.. methods, .. GoogleRestMethods.NotServed(methods, apiName)];
        Task Dispatch(HttpContext context) => DispatchAsync(context, prefix, apiName, answered);
        group.Map($"/{version}/{{**path}}", Dispatch);
        if (prefix.Length > 0)
        {
            group.Map("/{**path}", Dispatch);
        }

        return group;
    }

    /// <summary>Answers an unknown path with Google's error body: for an app that serves an emulated API and nothing else.</summary>
    public static Task NotFoundAsync(HttpContext context, string apiName) =>
        WriteErrorAsync(context, ApiException.NotFound($"{context.Request.Method} {context.Request.Path} is not a method of the {apiName} twin."));

    public static (string Segment, string Verb) SplitVerb(string segment)
    {
        var colon = segment.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (segment, "") : (segment[..colon], segment[(colon + 1)..]);
    }

    /// <summary>
    /// Google's newer REST clients send <c>$alt=json;enum-encoding=int</c> and then expect enums as numbers; everyone else
    /// gets names.
    /// </summary>
    public static bool WantsNumberedEnums(HttpRequest request) =>
        request.Query["$alt"].Concat(request.Query["alt"])
            .Any(value => value?.Contains("enum-encoding=int", StringComparison.OrdinalIgnoreCase) == true);

    private static async Task DispatchAsync(HttpContext context, string prefix, string apiName, IReadOnlyList<RestMethod> methods)
    {
        try
        {
            var relative = context.Request.Path.Value![prefix.Length..].TrimStart('/');
            var segments = relative.Split('/').ToList();
            var (last, verb) = SplitVerb(segments[^1]);
            segments[^1] = last;
            foreach (var method in methods)
            {
                if (method.TryMatch(segments, verb, out var values))
                {
                    if (!HttpMethods.Equals(method.Method, context.Request.Method))
                    {
                        continue;
                    }

                    var response = await method.Handler(new RestCall(context, values));
                    context.Response.ContentType = "application/json; charset=utf-8";
                    await context.Response.WriteAsync(GoogleJson.Format(response, WantsNumberedEnums(context.Request)), context.RequestAborted);
                    return;
                }
            }

            throw ApiException.NotFound($"{context.Request.Method} {context.Request.Path} is not a method of the {apiName} twin.");
        }
        catch (ApiException error)
        {
            await WriteErrorAsync(context, error);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Like Google when its backend is down: 503 UNAVAILABLE, which clients retry, rather than a 500.
            await WriteErrorAsync(context, ApiException.Unavailable($"The {apiName} twin's store is unavailable: {exception.Message}"));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RestApi))
                .LogError(exception, "The {Api} twin failed on {Method} {Path}", apiName, context.Request.Method, context.Request.Path);
            await WriteErrorAsync(context, new ApiException(Grpc.Core.StatusCode.Internal, "Internal error in the twin; its log has the details."));
        }
    }

    private static Task WriteErrorAsync(HttpContext context, ApiException error)
    {
        context.Response.StatusCode = error.HttpStatus;
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new RestErrorResponse { Error = new RestError { Code = error.HttpStatus, Message = error.Message, Status = error.Status } };
        return context.Response.WriteAsync(GoogleJson.Format(body), context.RequestAborted);
    }
}
