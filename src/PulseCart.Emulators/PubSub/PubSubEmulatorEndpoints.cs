using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Api;
using PulseCart.Emulators.Oidc;
using PulseCart.GoogleApis;
using PulseCart.GoogleApis.PubSub.V1;

namespace PulseCart.Emulators.PubSub;

/// <summary>The Pub/Sub twin's REST API (a v1 subset) and the twin's own listing of what topics received.</summary>
public static class PubSubEmulatorEndpoints
{
    private const string Topics = "v1/projects/{project}/topics";
    private const string Topic = $"{Topics}/{{topic}}";
    private const string Subscriptions = "v1/projects/{project}/subscriptions";
    private const string Subscription = $"{Subscriptions}/{{subscription}}";

    /// <summary>The Pub/Sub v1 REST methods the twin serves, as Google maps them onto URLs.</summary>
    internal static readonly IReadOnlyList<RestMethod> Methods =
    [
        new("GET", Topics, call => Answer(Emulator(call).ListTopics(call.WithQuery(new ListTopicsRequest { Project = ProjectName(call) })))),
        new("PUT", Topic, async call =>
        {
            var topic = await call.BodyAsync<GoogleApis.PubSub.V1.Topic>();
            topic.Name = TopicName(call);
            return Emulator(call).CreateTopic(topic);
        }),
        new("GET", Topic, call => Answer(Emulator(call).GetTopic(TopicName(call)))),
        new("PATCH", Topic, async call =>
        {
            var request = await call.BodyAsync<UpdateTopicRequest>();
            request.Topic ??= new GoogleApis.PubSub.V1.Topic();
            request.Topic.Name = TopicName(call);
            return Emulator(call).UpdateTopic(request);
        }),
        new("DELETE", Topic, call =>
        {
            Emulator(call).DeleteTopic(TopicName(call));
            return Answer(new Empty());
        }),
        new("POST", $"{Topic}:publish", async call =>
        {
            var request = await call.BodyAsync<PublishRequest>();
            request.Topic = TopicName(call);
            return Emulator(call).Publish(request);
        }),
        new("GET", $"{Topic}/subscriptions", call => Answer(Emulator(call).ListTopicSubscriptions(call.WithQuery(new ListTopicSubscriptionsRequest { Topic = TopicName(call) })))),
        new("GET", $"{Topic}/messages", call => Answer(new ListTopicMessagesResponse { Messages = { Emulator(call).ListMessages(TopicName(call)) } })),
        new("GET", Subscriptions, call => Answer(Emulator(call).ListSubscriptions(call.WithQuery(new ListSubscriptionsRequest { Project = ProjectName(call) })))),
        new("PUT", Subscription, async call =>
        {
            var subscription = await call.BodyAsync<GoogleApis.PubSub.V1.Subscription>();
            subscription.Name = SubscriptionName(call);
            return Emulator(call).CreateSubscription(subscription);
        }),
        new("GET", Subscription, call => Answer(Emulator(call).GetSubscription(SubscriptionName(call)))),
        new("PATCH", Subscription, async call =>
        {
            var request = await call.BodyAsync<UpdateSubscriptionRequest>();
            request.Subscription ??= new GoogleApis.PubSub.V1.Subscription();
            request.Subscription.Name = SubscriptionName(call);
            return Emulator(call).UpdateSubscription(request);
        }),
        new("DELETE", Subscription, call =>
        {
            Emulator(call).DeleteSubscription(SubscriptionName(call));
            return Answer(new Empty());
        }),
        new("POST", $"{Subscription}:modifyPushConfig", async call =>
        {
            var request = await call.BodyAsync<ModifyPushConfigRequest>();
            request.Subscription = SubscriptionName(call);
            Emulator(call).ModifyPushConfig(request);
            return new Empty();
        }),
        new("POST", $"{Subscription}:pull", async call =>
        {
            var request = await call.BodyAsync<PullRequest>();
            request.Subscription = SubscriptionName(call);
            return await Emulator(call).PullAsync(request, call.Aborted);
        }),
        new("POST", $"{Subscription}:acknowledge", async call =>
        {
            var request = await call.BodyAsync<AcknowledgeRequest>();
            Emulator(call).Acknowledge(SubscriptionName(call), request.AckIds);
            return new Empty();
        }),
        new("POST", $"{Subscription}:modifyAckDeadline", async call =>
        {
            var request = await call.BodyAsync<ModifyAckDeadlineRequest>();
            Emulator(call).ModifyAckDeadline(SubscriptionName(call), request.AckIds, request.AckDeadlineSeconds);
            return new Empty();
        }),
    ];

    /// <summary>
    /// Maps the Pub/Sub v1 REST subset under <c>PulseCart:Emulators:PubSub:PathPrefix</c>: topics, push and pull
    /// subscriptions, publish, pull and acknowledgement, and the twin's own <c>GET …/topics/T/messages</c> (what a topic
    /// received, for dead-letter topics above all), plus the emulator OIDC issuer's key set. Returns the API's route group,
    /// for adding authorization or filters.
    /// </summary>
    public static RouteGroupBuilder MapPubSubEmulator(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPubSubEmulator(endpoints.ServiceProvider.GetRequiredService<IOptions<PubSubEmulatorOptions>>().Value.PathPrefix);

    /// <summary>As <see cref="MapPubSubEmulator(IEndpointRouteBuilder)"/>, under <paramref name="pathPrefix"/> ("" for the root).</summary>
    public static RouteGroupBuilder MapPubSubEmulator(this IEndpointRouteBuilder endpoints, string pathPrefix)
    {
        endpoints.MapLocalOidcIssuer();
        return endpoints.MapRestApi(pathPrefix, "v1", "Pub/Sub", Methods);
    }

    private static PubSubEmulator Emulator(RestCall call) => call.Services.GetRequiredService<PubSubEmulator>();

    private static Task<IMessage> Answer(IMessage message) => Task.FromResult(message);

    private static string ProjectName(RestCall call) => $"projects/{call["project"]}";

    private static string TopicName(RestCall call) => $"{ProjectName(call)}/topics/{call["topic"]}";

    private static string SubscriptionName(RestCall call) => $"{ProjectName(call)}/subscriptions/{call["subscription"]}";
}
