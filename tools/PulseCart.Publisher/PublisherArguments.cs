using System.Globalization;
using System.Text.RegularExpressions;

namespace PulseCart.Publisher;

/// <summary>How the publisher authenticates: Application Default Credentials for Google, nothing for an emulator.</summary>
internal enum AuthMode
{
    Auto,
    Adc,
    None,
}

/// <summary>The command line, parsed and checked.</summary>
internal sealed partial record PublisherArguments(
    string Mode,
    string Source,
    string Topic,
    Uri BaseUrl,
    int Count,
    IReadOnlyDictionary<string, string> Attributes,
    string? OrderingKey,
    string? UserId,
    string? CartId,
    string? OrderId,
    AuthMode Auth)
{
    public const string DefaultTopic = "projects/pulsecart-local/topics/pulsecart-events";
    public const string DefaultBaseUrl = "http://localhost:8080/emulators/pubsub";

    public const string Usage = """
        PulseCart publisher: publishes PulseCart events to a Pub/Sub topic (the consumer's embedded emulator by default).

        usage:
          dotnet run --project tools/PulseCart.Publisher -- sample <event_type> [options]
          dotnet run --project tools/PulseCart.Publisher -- file <events.jsonl | -> [options]

          sample     publish a contract-valid event with fresh ids and occurred_at = now; event_type is one of
                     order.placed, cart.abandoned, cart.updated, payment.failed
          file       publish each non-blank line of a JSON-lines file (or stdin with -) as one message, as is

        options:
          --topic projects/P/topics/T   default projects/pulsecart-local/topics/pulsecart-events
          --base-url URL                default http://localhost:8080/emulators/pubsub; https://pubsub.googleapis.com for Pub/Sub
          --auth auto|adc|none          auto (default): Application Default Credentials for *.googleapis.com, none otherwise
          --count N                     sample only: publish N events, each with fresh ids (default 1)
          --user-id ID, --cart-id ID, --order-id ID
                                        sample only: use these ids instead of fresh ones (e.g. to abandon, then buy, one cart)
          --attribute KEY=VALUE         a message attribute; repeatable
          --ordering-key KEY            the messages' ordering key
        """;

    /// <summary>The parsed arguments, or the reason they cannot be used.</summary>
    public static (PublisherArguments? Arguments, string? Error) Parse(IReadOnlyList<string> args)
    {
        var positional = new List<string>();
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        string topic = DefaultTopic, baseUrl = DefaultBaseUrl;
        string? orderingKey = null, userId = null, cartId = null, orderId = null;
        var count = 1;
        var auth = AuthMode.Auto;
        for (var index = 0; index < args.Count; index++)
        {
            var arg = args[index];
            if (arg is "-h" or "--help")
            {
                return (null, "");
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }

            if (index + 1 >= args.Count)
            {
                return (null, $"{arg} needs a value.");
            }

            var value = args[++index];
            switch (arg)
            {
                case "--topic": topic = value; break;
                case "--base-url": baseUrl = value; break;
                case "--ordering-key": orderingKey = value; break;
                case "--user-id": userId = value; break;
                case "--cart-id": cartId = value; break;
                case "--order-id": orderId = value; break;
                case "--count" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count is >= 1 and <= 10_000:
                    break;
                case "--count":
                    return (null, "--count must be a whole number from 1 to 10000.");
                case "--auth" when Enum.TryParse<AuthMode>(value, ignoreCase: true, out auth):
                    break;
                case "--auth":
                    return (null, "--auth must be auto, adc or none.");
                case "--attribute":
                    var equals = value.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                    {
                        return (null, "--attribute must be KEY=VALUE.");
                    }

                    attributes[value[..equals]] = value[(equals + 1)..];
                    break;
                default:
                    return (null, $"Unknown option {arg}.");
            }
        }

        if (positional.Count != 2 || positional[0] is not ("sample" or "file"))
        {
            return (null, "Say what to publish: sample <event_type>, or file <path>.");
        }

        if (!TopicPattern().IsMatch(topic))
        {
            return (null, $"--topic must look like projects/PROJECT/topics/TOPIC, not '{topic}'.");
        }

        if (!Uri.TryCreate(baseUrl.TrimEnd('/'), UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            return (null, $"--base-url must be an absolute http(s) URL, not '{baseUrl}'.");
        }

        if (positional[0] == "sample" && !SampleEvents.Types.Contains(positional[1]))
        {
            return (null, $"Unknown event type '{positional[1]}': use one of {string.Join(", ", SampleEvents.Types)}.");
        }

        return (new PublisherArguments(positional[0], positional[1], topic, baseUri, count, attributes, orderingKey, userId, cartId, orderId, auth), null);
    }

    /// <summary>Real Pub/Sub wants a Google access token; an emulator wants none.</summary>
    public bool UsesGoogleCredentials =>
        Auth == AuthMode.Adc || (Auth == AuthMode.Auto && BaseUrl.Host.EndsWith("googleapis.com", StringComparison.OrdinalIgnoreCase));

    [GeneratedRegex("^projects/[^/]+/topics/[^/:]+$")]
    private static partial Regex TopicPattern();
}
