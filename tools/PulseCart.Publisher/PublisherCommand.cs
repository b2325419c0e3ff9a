using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;

namespace PulseCart.Publisher;

/// <summary>
/// Publishes sample or file events with Pub/Sub's REST <c>topics.publish</c>, to the embedded emulator or to Google.
/// Exit codes: 0 published, 1 the API refused or could not be reached, 2 bad command line.
/// </summary>
internal static class PublisherCommand
{
    private const string PubSubScope = "https://www.googleapis.com/auth/pubsub";

    // Pub/Sub takes up to 1,000 messages and 10 MB per request; smaller batches keep each request well inside both.
    private const int BatchSize = 100;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors)
    {
        var (arguments, problem) = PublisherArguments.Parse(args);
        if (arguments is null)
        {
            if (!string.IsNullOrEmpty(problem))
            {
                await errors.WriteLineAsync(problem);
                await errors.WriteLineAsync();
            }

            await (problem == "" ? output : errors).WriteLineAsync(PublisherArguments.Usage);
            return problem == "" ? 0 : 2;
        }

        IReadOnlyList<string> events;
        try
        {
            events = arguments.Mode == "sample"
                ? [.. Enumerable.Range(0, arguments.Count).Select(_ => SampleEvents.Create(arguments.Source, arguments, DateTimeOffset.UtcNow).ToJsonString())]
                : await ReadLinesAsync(arguments.Source);
        }
        catch (IOException exception)
        {
            await errors.WriteLineAsync($"Cannot read {arguments.Source}: {exception.Message}");
            return 2;
        }

        if (events.Count == 0)
        {
            await errors.WriteLineAsync($"{arguments.Source} holds no events.");
            return 2;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = new Uri($"{arguments.BaseUrl.AbsoluteUri.TrimEnd('/')}/v1/{arguments.Topic}:publish");
        try
        {
            var token = arguments.UsesGoogleCredentials ? await AccessTokenAsync() : null;
            foreach (var batch in events.Chunk(BatchSize))
            {
                var ids = await PublishAsync(http, url, token, batch, arguments);
                for (var index = 0; index < batch.Length; index++)
                {
                    await output.WriteLineAsync($"published {ids[index]} {Describe(batch[index])}");
                }
            }

            return 0;
        }
        catch (PublishException exception)
        {
            await errors.WriteLineAsync(exception.Message);
            return 1;
        }
        catch (JsonException exception)
        {
            await errors.WriteLineAsync($"{url} answered with something other than Pub/Sub's JSON: {exception.Message}");
            return 1;
        }
        catch (HttpRequestException exception)
        {
            await errors.WriteLineAsync($"Cannot reach {url}: {exception.Message}");
            if (!arguments.UsesGoogleCredentials)
            {
                await errors.WriteLineAsync("Is the consumer running? dotnet run --project src/PulseCart.Consumer");
            }

            return 1;
        }
        catch (InvalidOperationException exception) when (arguments.UsesGoogleCredentials)
        {
            await errors.WriteLineAsync($"No Application Default Credentials: {exception.Message} (try: gcloud auth application-default login)");
            return 1;
        }
    }

    private static async Task<IReadOnlyList<string>> ReadLinesAsync(string path)
    {
        var text = path == "-" ? await Console.In.ReadToEndAsync() : await File.ReadAllTextAsync(path);
        return [.. text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0)];
    }

    private static async Task<string> AccessTokenAsync()
    {
        var credential = (await GoogleCredential.GetApplicationDefaultAsync()).CreateScoped(PubSubScope);
        return await ((ITokenAccess)credential).GetAccessTokenForRequestAsync();
    }

    private static async Task<IReadOnlyList<string>> PublishAsync(HttpClient http, Uri url, string? token, string[] events, PublisherArguments arguments)
    {
        var messages = new JsonArray();
        foreach (var @event in events)
        {
            var message = new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(@event)) };
            if (arguments.Attributes.Count > 0)
            {
                message["attributes"] = new JsonObject(arguments.Attributes.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value)));
            }

            if (arguments.OrderingKey is not null)
            {
                message["orderingKey"] = arguments.OrderingKey;
            }

            messages.Add(message);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(new JsonObject { ["messages"] = messages }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new PublishException($"{url} answered {(int)response.StatusCode}: {ErrorMessage(body)}");
        }

        var ids = JsonNode.Parse(body)?["messageIds"]?.AsArray().Select(id => id?.GetValue<string>() ?? "?").ToList();
        return ids is { Count: var count } && count == events.Length
            ? ids
            : throw new PublishException($"{url} answered without one message id per message: {body}");
    }

    /// <summary>Google's <c>{"error":{"message"}}</c> when there is one, else the body as it came.</summary>
    private static string ErrorMessage(string body)
    {
        try
        {
            return JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() ?? body;
        }
        catch (JsonException)
        {
            return body;
        }
    }

    private static string Describe(string @event)
    {
        try
        {
            var json = JsonNode.Parse(@event);
            return $"{json?["event_type"]} event_id={json?["event_id"]}";
        }
        catch (JsonException)
        {
            return "(not JSON: the consumer will quarantine it)";
        }
    }

    private sealed class PublishException(string message) : Exception(message);
}
