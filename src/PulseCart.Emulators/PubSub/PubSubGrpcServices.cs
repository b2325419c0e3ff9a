using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using PulseCart.Emulators.Api;
using PulseCart.GoogleApis.PubSub.V1;

namespace PulseCart.Emulators.PubSub;

/// <summary>Pub/Sub's Publisher over gRPC, answered by the same twin as the REST API.</summary>
internal sealed class PublisherGrpcService(PubSubEmulator emulator) : Publisher.PublisherBase
{
    private static readonly Empty Empty = new();

    public override Task<Topic> CreateTopic(Topic request, ServerCallContext context) => Task.FromResult(emulator.CreateTopic(request));

    public override Task<Topic> UpdateTopic(UpdateTopicRequest request, ServerCallContext context) => Task.FromResult(emulator.UpdateTopic(request));

    public override Task<PublishResponse> Publish(PublishRequest request, ServerCallContext context) => Task.FromResult(emulator.Publish(request));

    public override Task<Topic> GetTopic(GetTopicRequest request, ServerCallContext context) => Task.FromResult(emulator.GetTopic(request.Topic));

    public override Task<ListTopicsResponse> ListTopics(ListTopicsRequest request, ServerCallContext context) => Task.FromResult(emulator.ListTopics(request));

    public override Task<ListTopicSubscriptionsResponse> ListTopicSubscriptions(ListTopicSubscriptionsRequest request, ServerCallContext context) =>
        Task.FromResult(emulator.ListTopicSubscriptions(request));

    public override Task<Empty> DeleteTopic(DeleteTopicRequest request, ServerCallContext context)
    {
        emulator.DeleteTopic(request.Topic);
        return Task.FromResult(Empty);
    }
}

/// <summary>Pub/Sub's Subscriber over gRPC, StreamingPull included: what the official clients' subscribers use.</summary>
internal sealed class SubscriberGrpcService(PubSubEmulator emulator) : Subscriber.SubscriberBase
{
    private const int DefaultMaxOutstandingMessages = 1000;

    // How long a stream with nothing to deliver waits before it looks again; a publish wakes it sooner.
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    private static readonly Empty Empty = new();

    public override Task<Subscription> CreateSubscription(Subscription request, ServerCallContext context) => Task.FromResult(emulator.CreateSubscription(request));

    public override Task<Subscription> GetSubscription(GetSubscriptionRequest request, ServerCallContext context) => Task.FromResult(emulator.GetSubscription(request.Subscription));

    public override Task<Subscription> UpdateSubscription(UpdateSubscriptionRequest request, ServerCallContext context) => Task.FromResult(emulator.UpdateSubscription(request));

    public override Task<ListSubscriptionsResponse> ListSubscriptions(ListSubscriptionsRequest request, ServerCallContext context) => Task.FromResult(emulator.ListSubscriptions(request));

    public override Task<Empty> DeleteSubscription(DeleteSubscriptionRequest request, ServerCallContext context)
    {
        emulator.DeleteSubscription(request.Subscription);
        return Task.FromResult(Empty);
    }

    public override Task<Empty> ModifyAckDeadline(ModifyAckDeadlineRequest request, ServerCallContext context)
    {
        emulator.ModifyAckDeadline(request.Subscription, request.AckIds, request.AckDeadlineSeconds);
        return Task.FromResult(Empty);
    }

    public override Task<Empty> Acknowledge(AcknowledgeRequest request, ServerCallContext context)
    {
        emulator.Acknowledge(request.Subscription, request.AckIds);
        return Task.FromResult(Empty);
    }

    public override Task<PullResponse> Pull(PullRequest request, ServerCallContext context) => emulator.PullAsync(request, context.CancellationToken);

    public override Task<Empty> ModifyPushConfig(ModifyPushConfigRequest request, ServerCallContext context)
    {
        emulator.ModifyPushConfig(request);
        return Task.FromResult(Empty);
    }

    /// <summary>
    /// The first request names the subscription and the stream's ack deadline; messages then flow as they become due, at
    /// most <c>max_outstanding_messages</c> unacknowledged at once, while acks and deadline changes arrive on the same stream.
    /// </summary>
    public override async Task StreamingPull(IAsyncStreamReader<StreamingPullRequest> requestStream, IServerStreamWriter<StreamingPullResponse> responseStream, ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellation))
        {
            return;
        }

        var first = requestStream.Current;
        var subscription = first.Subscription;
        if (first.StreamAckDeadlineSeconds is < 10 or > 600)
        {
            throw ApiException.InvalidArgument($"Invalid stream_ack_deadline_seconds {first.StreamAckDeadlineSeconds}: it must be between 10 and 600.");
        }

        var ackDeadline = TimeSpan.FromSeconds(first.StreamAckDeadlineSeconds);
        var maxOutstanding = first.MaxOutstandingMessages > 0 ? (int)Math.Min(first.MaxOutstandingMessages, int.MaxValue) : DefaultMaxOutstandingMessages;
        var properties = new StreamingPullResponse.Types.SubscriptionProperties { MessageOrderingEnabled = emulator.IsMessageOrderingEnabled(subscription) };
        Apply(subscription, first);

        using var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var outstanding = new HashSet<string>(StringComparer.Ordinal);
        var reading = ReadAsync(requestStream, subscription, stream);
        try
        {
            var propertiesSent = false;
            while (!stream.IsCancellationRequested)
            {
                int room;
                lock (outstanding)
                {
                    room = maxOutstanding - emulator.RetainLeased(subscription, outstanding);
                }

                var received = room > 0 ? emulator.TakeForPull(subscription, Math.Min(room, PubSubEmulator.MaxMessagesPerPull), ackDeadline) : [];
                if (received.Count > 0 || !propertiesSent)
                {
                    lock (outstanding)
                    {
                        outstanding.UnionWith(received.Select(message => message.AckId));
                    }

                    await responseStream.WriteAsync(new StreamingPullResponse { ReceivedMessages = { received }, SubscriptionProperties = properties }, stream.Token);
                    propertiesSent = true;
                    continue;
                }

                await emulator.WaitForMessagesAsync(subscription, IdlePoll, stream.Token);
            }
        }
        catch (OperationCanceledException) when (stream.IsCancellationRequested)
        {
        }
        finally
        {
            await stream.CancelAsync();
            await reading;
        }
    }

    private async Task ReadAsync(IAsyncStreamReader<StreamingPullRequest> requestStream, string subscription, CancellationTokenSource stream)
    {
        try
        {
            while (await requestStream.MoveNext(stream.Token))
            {
                Apply(subscription, requestStream.Current);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException or RpcException)
        {
        }
        finally
        {
            // The client half-closed or went away: the stream ends, and what it held goes back when the leases run out.
            await stream.CancelAsync();
        }
    }

    private void Apply(string subscription, StreamingPullRequest request)
    {
        if (request.AckIds.Count > 0)
        {
            emulator.Acknowledge(subscription, request.AckIds);
        }

        if (request.ModifyDeadlineAckIds.Count != request.ModifyDeadlineSeconds.Count)
        {
            throw ApiException.InvalidArgument("modify_deadline_seconds and modify_deadline_ack_ids must have the same length.");
        }

        foreach (var group in request.ModifyDeadlineAckIds.Zip(request.ModifyDeadlineSeconds).GroupBy(pair => pair.Second, pair => pair.First))
        {
            emulator.ModifyAckDeadline(subscription, group, group.Key);
        }
    }
}
