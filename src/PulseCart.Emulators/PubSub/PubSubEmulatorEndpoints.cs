using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Oidc;

namespace PulseCart.Emulators.PubSub;

/// <summary>The embedded Pub/Sub emulator's REST API (a v1 subset) and the emulator's own listing of what topics received.</summary>
public static class PubSubEmulatorEndpoints
{
    private const string Topics = "/v1/projects/{project}/topics";
    private const string Subscriptions = "/v1/projects/{project}/subscriptions";

    // Pub/Sub's own publish limit is 10 MB of messages; the JSON and base64 around them need room too.
    private const int MaxRequestBytes = 14 * 1024 * 1024;

    private static readonly JsonDocumentOptions RequestJsonOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Maps the Pub/Sub v1 subset under <c>PulseCart:Emulators:PubSub:PathPrefix</c>: create, get and list topics and push
    /// subscriptions, <c>topics/T:publish</c>, a topic's subscriptions, and the emulator's own
    /// <c>GET …/topics/T/messages</c> (what a topic received, for dead-letter topics above all), plus the emulator OIDC
    /// issuer's key set. Returns the API's route group, for adding authorization or filters.
    /// </summary>
    public static RouteGroupBuilder MapPubSubEmulator(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<PubSubEmulatorOptions>>().Value;
        endpoints.MapLocalOidcIssuer();
        var group = endpoints.MapGroup(options.PathPrefix).ExcludeFromDescription();
        group.MapGet(Topics, ListTopics);
        group.MapPut($"{Topics}/{{topic}}", CreateTopicAsync);
        group.MapGet($"{Topics}/{{topic}}", GetTopic);

        // ':' has a meaning in route templates, so the custom verb travels inside the last segment and is split off here.
        group.MapPost($"{Topics}/{{topicAndVerb}}", TopicVerbAsync);
        group.MapGet($"{Topics}/{{topic}}/subscriptions", ListTopicSubscriptions);
        group.MapGet($"{Topics}/{{topic}}/messages", ListTopicMessages);
        group.MapGet(Subscriptions, ListSubscriptions);
        group.MapPut($"{Subscriptions}/{{subscription}}", CreateSubscriptionAsync);
        group.MapGet($"{Subscriptions}/{{subscription}}", GetSubscription);
        group.MapPost($"{Subscriptions}/{{subscriptionAndVerb}}", SubscriptionVerb);
        return group;
    }

    private static async Task<Results<JsonHttpResult<TopicResource>, JsonHttpResult<PubSubErrorResource>>> CreateTopicAsync(
        string project, string topic, HttpRequest request, PubSubEmulator emulator)
    {
        try
        {
            var (labels, retention) = PubSubRequests.Topic(await ReadBodyAsync(request));
            return TypedResults.Json(
                emulator.CreateTopic(TopicName(project, topic), labels, retention, WantsIntEnums(request)),
                PubSubResourceJsonContext.Default.TopicResource);
        }
        catch (PubSubApiException error)
        {
            return Error(error);
        }
    }

    private static Results<JsonHttpResult<TopicResource>, JsonHttpResult<PubSubErrorResource>> GetTopic(
        string project, string topic, HttpRequest request, PubSubEmulator emulator) =>
        Answer(() => emulator.GetTopic(CheckedTopicName(project, topic), WantsIntEnums(request)), PubSubResourceJsonContext.Default.TopicResource);

    private static Results<JsonHttpResult<ListTopicsResource>, JsonHttpResult<PubSubErrorResource>> ListTopics(
        string project, HttpRequest request, PubSubEmulator emulator) =>
        Answer(() => emulator.ListTopics(project, WantsIntEnums(request)), PubSubResourceJsonContext.Default.ListTopicsResource);

    private static Results<JsonHttpResult<ListTopicSubscriptionsResource>, JsonHttpResult<PubSubErrorResource>> ListTopicSubscriptions(
        string project, string topic, PubSubEmulator emulator) =>
        Answer(() => emulator.ListTopicSubscriptions(CheckedTopicName(project, topic)), PubSubResourceJsonContext.Default.ListTopicSubscriptionsResource);

    private static Results<JsonHttpResult<ListMessagesResource>, JsonHttpResult<PubSubErrorResource>> ListTopicMessages(
        string project, string topic, PubSubEmulator emulator) =>
        Answer(() => emulator.ListMessages(CheckedTopicName(project, topic)), PubSubResourceJsonContext.Default.ListMessagesResource);

    private static async Task<Results<JsonHttpResult<PublishResponseResource>, JsonHttpResult<PubSubErrorResource>>> TopicVerbAsync(
        string project, string topicAndVerb, HttpRequest request, PubSubEmulator emulator)
    {
        try
        {
            var (topic, verb) = SplitVerb(topicAndVerb);
            if (verb != "publish")
            {
                throw PubSubApiException.NotFound($"No method topics.{verb}: the emulator serves POST …/topics/TOPIC:publish.");
            }

            var name = CheckedTopicName(project, topic);
            var messages = PubSubRequests.Publish(await ReadBodyAsync(request));
            return TypedResults.Json(new PublishResponseResource(emulator.Publish(name, messages)), PubSubResourceJsonContext.Default.PublishResponseResource);
        }
        catch (PubSubApiException error)
        {
            return Error(error);
        }
    }

    private static async Task<Results<JsonHttpResult<SubscriptionResource>, JsonHttpResult<PubSubErrorResource>>> CreateSubscriptionAsync(
        string project, string subscription, HttpRequest request, PubSubEmulator emulator)
    {
        try
        {
            var spec = PubSubRequests.Subscription($"projects/{project}/subscriptions/{subscription}", await ReadBodyAsync(request));
            return TypedResults.Json(emulator.CreateSubscription(spec, WantsIntEnums(request)), PubSubResourceJsonContext.Default.SubscriptionResource);
        }
        catch (PubSubApiException error)
        {
            return Error(error);
        }
    }

    private static Results<JsonHttpResult<SubscriptionResource>, JsonHttpResult<PubSubErrorResource>> GetSubscription(
        string project, string subscription, HttpRequest request, PubSubEmulator emulator) =>
        Answer(
            () =>
            {
                var name = $"projects/{project}/subscriptions/{subscription}";
                return PubSubNames.SubscriptionProblem(name) is { } problem
                    ? throw PubSubApiException.InvalidArgument($"Invalid [subscriptions] name: {problem}")
                    : emulator.GetSubscription(name, WantsIntEnums(request));
            },
            PubSubResourceJsonContext.Default.SubscriptionResource);

    private static Results<JsonHttpResult<ListSubscriptionsResource>, JsonHttpResult<PubSubErrorResource>> ListSubscriptions(
        string project, HttpRequest request, PubSubEmulator emulator) =>
        Answer(() => emulator.ListSubscriptions(project, WantsIntEnums(request)), PubSubResourceJsonContext.Default.ListSubscriptionsResource);

    private static JsonHttpResult<PubSubErrorResource> SubscriptionVerb(string subscriptionAndVerb)
    {
        var (_, verb) = SplitVerb(subscriptionAndVerb);
        return Error(verb.Length == 0
            ? PubSubApiException.NotFound("No such method: POST …/subscriptions/SUBSCRIPTION needs a :verb.")
            : PubSubApiException.Unimplemented($"The emulator delivers by push only; subscriptions.{verb} is not implemented."));
    }

    private static Results<JsonHttpResult<T>, JsonHttpResult<PubSubErrorResource>> Answer<T>(Func<T> operation, JsonTypeInfo<T> typeInfo)
    {
        try
        {
            return TypedResults.Json(operation(), typeInfo);
        }
        catch (PubSubApiException error)
        {
            return Error(error);
        }
    }

    private static (string Resource, string Verb) SplitVerb(string segment)
    {
        var colon = segment.LastIndexOf(':');
        return colon < 0 ? (segment, "") : (segment[..colon], segment[(colon + 1)..]);
    }

    private static string TopicName(string project, string topic) => $"projects/{project}/topics/{topic}";

    private static string CheckedTopicName(string project, string topic)
    {
        var name = TopicName(project, topic);
        return PubSubNames.TopicProblem(name) is { } problem
            ? throw PubSubApiException.InvalidArgument($"Invalid [topics] name: {problem}")
            : name;
    }

    /// <summary>
    /// Google's newer REST clients send <c>$alt=json;enum-encoding=int</c> and then expect enums as numbers; everyone else
    /// gets names.
    /// </summary>
    private static bool WantsIntEnums(HttpRequest request) =>
        request.Query["$alt"].Concat(request.Query["alt"])
            .Any(value => value?.Contains("enum-encoding=int", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>
    /// The body as JSON, whatever its Content-Type (curl's <c>-d</c> says form-urlencoded); null when empty.
    /// </summary>
    private static async Task<JsonElement?> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxRequestBytes)
        {
            throw TooLarge();
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(16 * 1024), request.HttpContext.RequestAborted);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > MaxRequestBytes)
            {
                throw TooLarge();
            }
        }

        if (buffer.WrittenSpan.Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(buffer.WrittenMemory, RequestJsonOptions);
            return document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw PubSubApiException.InvalidArgument($"Invalid JSON payload received. {exception.Message}");
        }
    }

    private static PubSubApiException TooLarge() =>
        PubSubApiException.InvalidArgument($"Request payload size exceeds the limit: {MaxRequestBytes} bytes.");

    private static JsonHttpResult<PubSubErrorResource> Error(PubSubApiException error) =>
        TypedResults.Json(
            new PubSubErrorResource(new PubSubErrorDetailResource(error.HttpStatus, error.Message, error.Status)),
            PubSubResourceJsonContext.Default.PubSubErrorResource,
            statusCode: error.HttpStatus);
}
