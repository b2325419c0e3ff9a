using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Api;
using PulseCart.Emulators.CloudTasks;
using PulseCart.Emulators.Dispatching;
using PulseCart.GoogleApis.PubSub.V1;

namespace PulseCart.Emulators.PubSub;

/// <summary>
/// The Pub/Sub twin: topics, push and pull subscriptions and their backlogs, held in memory (a restart loses them), the
/// operations behind its REST and gRPC APIs, and what operators and tests can watch: every push (<see cref="Attempts"/>,
/// <see cref="PushCompleted"/>), the <c>pulsecart.pubsub.push</c> counter, the messages each topic received
/// (<see cref="MessagesOf"/>, dead-letter topics included) and <see cref="WhenIdleAsync"/>.
/// </summary>
public sealed class PubSubEmulator : IParkable
{
    /// <summary>Counts finished pushes, tagged <c>outcome</c> = ack | retry | dead_letter | expired and <c>subscription</c>.</summary>
    public const string PushCounterName = "pulsecart.pubsub.push";

    /// <summary>The named <see cref="HttpClient"/> pushes are sent with.</summary>
    public const string HttpClientName = "PulseCart.Emulators.PubSub";

    // Pub/Sub adds these to a message it forwards to a dead-letter topic.
    internal const string DeadLetterDeliveryCount = "CloudPubSubDeadLetterSourceDeliveryCount";
    internal const string DeadLetterSubscription = "CloudPubSubDeadLetterSourceSubscription";
    internal const string DeadLetterSubscriptionProject = "CloudPubSubDeadLetterSourceSubscriptionProject";
    internal const string DeadLetterTopicPublishTime = "CloudPubSubDeadLetterSourceTopicPublishTime";

    internal const int MaxMessagesPerPublish = 1000;

    // Pub/Sub's quota on one publish request, messages and attributes included ("10 MB"); Google's APIs answer a
    // larger payload with this figure.
    internal const int MaxPublishRequestBytes = 10 * 1024 * 1024;
    internal const int MaxAttributes = 100;
    internal const int MaxAttributeKeyBytes = 256;
    internal const int MaxAttributeValueBytes = 1024;
    internal const int MaxOrderingKeyBytes = 1024;
    internal const int MaxMessagesPerPull = 1000;

    private const int AttemptHistory = 10_000;

    // A unary pull without return_immediately waits this long (real time) for a message before answering empty.
    private static readonly TimeSpan PullWait = TimeSpan.FromSeconds(3);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, TopicRuntime> _topics = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SubscriptionRuntime> _subscriptions = new(StringComparer.Ordinal);
    private readonly Queue<PushAttempt> _attempts = new();
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PubSubEmulator> _logger;
    private readonly Counter<long> _pushCounter;
    private long _lastMessageId;
    private long _lastAckId;
    private long _parkedUntilTicks;
    private volatile bool _parked;
    private int _inFlight;

    internal PubSubEmulator(
        IOptions<PubSubEmulatorOptions> options,
        TimeProvider timeProvider,
        IMeterFactory meterFactory,
        ILogger<PubSubEmulator> logger)
    {
        Options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _pushCounter = meterFactory.Create(CloudTasksEmulator.MeterName).CreateCounter<long>(
            PushCounterName, unit: "{push}", description: "Pub/Sub emulator pushes by outcome");

        // Numeric like Pub/Sub's; a random start keeps ids unique across restarts, as Pub/Sub's are within a topic.
        _lastMessageId = Random.Shared.NextInt64(1_000_000_000_000_000, 2_000_000_000_000_000);

        foreach (var topic in Options.Topics)
        {
            CreateTopic(new Topic { Name = topic });
        }

        foreach (var subscription in Options.Subscriptions)
        {
            AddSubscription(subscription.ToSpec());
        }
    }

    /// <summary>Raised after every push, on the dispatcher's thread; keep handlers quick.</summary>
    public event EventHandler<PushAttempt>? PushCompleted;

    /// <summary>The most recent pushes (up to 10,000), oldest first.</summary>
    public IReadOnlyList<PushAttempt> Attempts
    {
        get
        {
            lock (_gate)
            {
                return [.. _attempts];
            }
        }
    }

    /// <summary>The full names of the topics.</summary>
    public IReadOnlyCollection<string> TopicNames
    {
        get
        {
            lock (_gate)
            {
                return [.. _topics.Keys];
            }
        }
    }

    /// <summary>The full names of the subscriptions.</summary>
    public IReadOnlyCollection<string> SubscriptionNames
    {
        get
        {
            lock (_gate)
            {
                return [.. _subscriptions.Keys];
            }
        }
    }

    internal PubSubEmulatorOptions Options { get; }

    /// <summary>Set whenever there may be something for the dispatcher to do now.</summary>
    internal WakeSignal Wake { get; } = new();

    WakeSignal IParkable.Wake => Wake;

    /// <summary>
    /// The messages published to <paramref name="topic"/> (its last <c>RetainedMessagesPerTopic</c>, within
    /// <c>RetainedBytesPerTopic</c>), oldest first. For a dead-letter topic these are the messages that ran out of
    /// delivery attempts.
    /// </summary>
    public IReadOnlyList<EmulatedMessage> MessagesOf(string topic)
    {
        lock (_gate)
        {
            return _topics.TryGetValue(topic, out var runtime) ? [.. runtime.Retained] : throw new KeyNotFoundException($"No topic {topic}.");
        }
    }

    /// <summary>
    /// Completes once nothing more will happen until the clock moves or a message is published: the dispatcher waits for a
    /// time still ahead and no push is outstanding. Tests advance a fake clock, then await this.
    /// </summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        // Polling in real time is fine here: the state it waits for changes within microseconds of the clock moving.
        while (!IsQuiet(_timeProvider.GetUtcNow()))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    internal Topic CreateTopic(Topic topic)
    {
        CheckTopicName(topic.Name);
        CheckTopicSettings(topic);
        lock (_gate)
        {
            if (_topics.ContainsKey(topic.Name))
            {
                throw ResourceExists(topic.Name);
            }

            var resource = new Topic { Name = topic.Name, Labels = { topic.Labels }, MessageRetentionDuration = topic.MessageRetentionDuration, State = Topic.Types.State.Active };
            _topics[topic.Name] = new TopicRuntime(resource);
            return resource.Clone();
        }
    }

    /// <summary>Changes the topic fields <c>update_mask</c> names: labels and message retention.</summary>
    internal Topic UpdateTopic(UpdateTopicRequest request)
    {
        var update = request.Topic ?? throw ApiException.InvalidArgument("Topic is required.");
        var mask = RequireMask<Topic>(request.UpdateMask, ["labels", "message_retention_duration"]);
        CheckTopicSettings(update);
        lock (_gate)
        {
            var topic = FindTopic(update.Name);
            var merged = topic.Resource.Clone();
            UpdateMasks.Apply(mask, update, merged);
            topic.Resource = merged;
            return merged.Clone();
        }
    }

    internal Topic GetTopic(string name)
    {
        CheckTopicName(name);
        lock (_gate)
        {
            return FindTopic(name).Resource.Clone();
        }
    }

    internal ListTopicsResponse ListTopics(ListTopicsRequest request)
    {
        var prefix = $"{request.Project}/topics/";
        lock (_gate)
        {
            var topics = _topics.Values.Where(topic => topic.Name.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(topic => topic.Name, StringComparer.Ordinal).Select(topic => topic.Resource.Clone()).ToList();
            var (page, next) = Paging.Page(topics, request.PageSize, request.PageToken, 1000);
            return new ListTopicsResponse { Topics = { page }, NextPageToken = next };
        }
    }

    internal ListTopicSubscriptionsResponse ListTopicSubscriptions(ListTopicSubscriptionsRequest request)
    {
        CheckTopicName(request.Topic);
        lock (_gate)
        {
            var names = FindTopic(request.Topic).Subscriptions.Select(subscription => subscription.Spec.Name).ToList();
            var (page, next) = Paging.Page(names, request.PageSize, request.PageToken, 1000);
            return new ListTopicSubscriptionsResponse { Subscriptions = { page }, NextPageToken = next };
        }
    }

    /// <summary>Deletes the topic; its subscriptions stay, naming <c>_deleted-topic_</c>, and receive nothing more.</summary>
    internal void DeleteTopic(string name)
    {
        CheckTopicName(name);
        lock (_gate)
        {
            var topic = FindTopic(name);
            _topics.Remove(name);
            foreach (var subscription in topic.Subscriptions)
            {
                subscription.Spec = subscription.Spec with { Topic = SubscriptionSpec.DeletedTopic };
            }
        }
    }

    /// <summary>The messages a topic received, as the emulator's own <c>GET …/topics/T/messages</c> lists them.</summary>
    internal IReadOnlyList<PubsubMessage> ListMessages(string topic)
    {
        CheckTopicName(topic);
        lock (_gate)
        {
            return [.. FindTopic(topic).Retained.Select(ToResource)];
        }
    }

    /// <summary>Publishes to every subscription attached now; answers the new message ids in request order.</summary>
    internal PublishResponse Publish(PublishRequest request)
    {
        CheckTopicName(request.Topic);
        if (request.CalculateSize() > MaxPublishRequestBytes)
        {
            throw ApiException.InvalidArgument($"Request payload size exceeds the limit: {MaxPublishRequestBytes} bytes.");
        }

        var messages = request.Messages.Select((message, index) => Outgoing(message, $"messages[{index}]")).ToList();
        if (messages.Count == 0)
        {
            throw ApiException.InvalidArgument("The request must contain at least one message.");
        }

        if (messages.Count > MaxMessagesPerPublish)
        {
            throw ApiException.InvalidArgument($"The request has {messages.Count} messages; at most {MaxMessagesPerPublish} are allowed.");
        }

        lock (_gate)
        {
            var topic = FindTopic(request.Topic);
            var now = _timeProvider.GetUtcNow();
            var response = new PublishResponse { MessageIds = { messages.Select(message => PublishLocked(topic, message, now).MessageId) } };
            Wake.Set();
            return response;
        }
    }

    internal Subscription CreateSubscription(Subscription resource) => AddSubscription(SubscriptionSpec.FromResource(resource));

    internal Subscription GetSubscription(string name)
    {
        CheckSubscriptionName(name);
        lock (_gate)
        {
            return FindSubscription(name).Spec.ToResource();
        }
    }

    /// <summary>Changes the subscription fields <c>update_mask</c> names; messages already waiting keep their place.</summary>
    internal Subscription UpdateSubscription(UpdateSubscriptionRequest request)
    {
        var update = request.Subscription ?? throw ApiException.InvalidArgument("Subscription is required.");
        var mask = RequireMask<Subscription>(
            request.UpdateMask,
            ["push_config", "ack_deadline_seconds", "retry_policy", "dead_letter_policy", "labels", "message_retention_duration", "expiration_policy"]);
        lock (_gate)
        {
            var subscription = FindSubscription(update.Name);
            var merged = subscription.Spec.ToResource();
            UpdateMasks.Apply(mask, update, merged);
            return Replace(subscription, merged);
        }
    }

    internal ListSubscriptionsResponse ListSubscriptions(ListSubscriptionsRequest request)
    {
        var prefix = $"{request.Project}/subscriptions/";
        lock (_gate)
        {
            var subscriptions = _subscriptions.Values.Where(subscription => subscription.Spec.Name.StartsWith(prefix, StringComparison.Ordinal))
                .OrderBy(subscription => subscription.Spec.Name, StringComparer.Ordinal)
                .Select(subscription => subscription.Spec.ToResource())
                .ToList();
            var (page, next) = Paging.Page(subscriptions, request.PageSize, request.PageToken, 1000);
            return new ListSubscriptionsResponse { Subscriptions = { page }, NextPageToken = next };
        }
    }

    /// <summary>Deletes the subscription and its backlog; pushes still out are settled without effect.</summary>
    internal void DeleteSubscription(string name)
    {
        CheckSubscriptionName(name);
        lock (_gate)
        {
            var subscription = FindSubscription(name);
            _subscriptions.Remove(name);
            subscription.Deleted = true;
            subscription.Ready.Set();
            if (_topics.TryGetValue(subscription.Spec.Topic, out var topic))
            {
                topic.Subscriptions.Remove(subscription);
            }
        }
    }

    /// <summary>Turns push into pull (an empty push config) or back, or changes where and how it pushes.</summary>
    internal void ModifyPushConfig(ModifyPushConfigRequest request)
    {
        CheckSubscriptionName(request.Subscription);
        lock (_gate)
        {
            var subscription = FindSubscription(request.Subscription);
            var merged = subscription.Spec.ToResource();
            merged.PushConfig = request.PushConfig ?? new PushConfig();
            Replace(subscription, merged);
        }
    }

    /// <summary>
    /// Up to <c>max_messages</c> messages leased for the subscription's ack deadline; without <c>return_immediately</c> it
    /// waits a few seconds for one to arrive before answering empty.
    /// </summary>
    internal async Task<PullResponse> PullAsync(PullRequest request, CancellationToken cancellationToken)
    {
        CheckSubscriptionName(request.Subscription);
        if (request.MaxMessages <= 0)
        {
            throw ApiException.InvalidArgument("max_messages must be more than 0.");
        }

        var deadline = DateTimeOffset.UtcNow + PullWait;
        while (true)
        {
            var received = TakeForPull(request.Subscription, Math.Min(request.MaxMessages, MaxMessagesPerPull), ackDeadline: null);
            var left = deadline - DateTimeOffset.UtcNow;
            if (received.Count > 0 || request.ReturnImmediately || left <= TimeSpan.Zero)
            {
                return new PullResponse { ReceivedMessages = { received } };
            }

            await WaitForMessagesAsync(request.Subscription, left, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Leases up to <paramref name="max"/> due messages to a puller for <paramref name="ackDeadline"/> (the subscription's
    /// when null); each delivery counts as an attempt.
    /// </summary>
    internal IReadOnlyList<ReceivedMessage> TakeForPull(string subscriptionName, int max, TimeSpan? ackDeadline)
    {
        lock (_gate)
        {
            var subscription = FindSubscription(subscriptionName);
            var spec = subscription.Spec;
            if (!spec.IsPull)
            {
                throw ApiException.FailedPrecondition($"Subscription {PubSubNames.IdOf(spec.Name)} is a push subscription: modifyPushConfig with an empty push config makes it a pull one.");
            }

            var now = _timeProvider.GetUtcNow();
            var leaseUntil = now + (ackDeadline ?? spec.AckDeadline);
            var received = new List<ReceivedMessage>();
            subscription.Ready.Reset();
            while (received.Count < max && subscription.TryTakeDue(now, out var pending))
            {
                pending.DeliveryAttempts++;
                var ackId = subscription.Lease(pending, leaseUntil, Interlocked.Increment(ref _lastAckId));
                received.Add(new ReceivedMessage
                {
                    AckId = ackId,
                    Message = ToResource(pending.Message),
                    DeliveryAttempt = spec.DeadLetterPolicy is null ? 0 : pending.DeliveryAttempts,
                });
            }

            if (received.Count > 0)
            {
                // The dispatcher watches lease deadlines: a lease that runs out is a nack.
                Wake.Set();
            }

            return received;
        }
    }

    /// <summary>Waits (real time) until a message may be ready to pull on the subscription, or <paramref name="timeout"/> passes.</summary>
    internal async Task WaitForMessagesAsync(string subscriptionName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task ready;
        lock (_gate)
        {
            ready = FindSubscription(subscriptionName).Ready.WaitAsync();
        }

        await Task.WhenAny(ready, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Acknowledges leased messages; ack ids that are unknown or ran out are ignored, as Pub/Sub does.</summary>
    internal void Acknowledge(string subscriptionName, IEnumerable<string> ackIds)
    {
        CheckSubscriptionName(subscriptionName);
        lock (_gate)
        {
            var subscription = FindSubscription(subscriptionName);
            var now = _timeProvider.GetUtcNow();
            foreach (var ackId in ackIds)
            {
                if (subscription.TryRelease(ackId, out var pending))
                {
                    subscription.Finish(pending, now);
                }
            }
        }
    }

    /// <summary>Extends leases by <paramref name="seconds"/> from now; 0 hands the messages back at once (a nack).</summary>
    internal void ModifyAckDeadline(string subscriptionName, IEnumerable<string> ackIds, int seconds)
    {
        CheckSubscriptionName(subscriptionName);
        if (seconds is < 0 or > 600)
        {
            throw ApiException.InvalidArgument($"Invalid ack deadline {seconds}: it must be between 0 and 600 seconds.");
        }

        lock (_gate)
        {
            var subscription = FindSubscription(subscriptionName);
            var now = _timeProvider.GetUtcNow();
            foreach (var ackId in ackIds)
            {
                if (seconds > 0)
                {
                    subscription.TryExtend(ackId, now + TimeSpan.FromSeconds(seconds));
                }
                else if (subscription.TryRelease(ackId, out var pending))
                {
                    NackLocked(subscription, pending, now);
                }
            }

            Wake.Set();
        }
    }

    /// <summary>How many of <paramref name="ackIds"/> are still leased: a stream's outstanding messages, for its flow control.</summary>
    /// <summary>
    /// Keeps in <paramref name="ackIds"/> only what is still leased (a stream's outstanding messages: acknowledged, nacked
    /// and expired ones leave it, so it stays as small as the stream's lease) and returns how many that is.
    /// </summary>
    internal int RetainLeased(string subscriptionName, HashSet<string> ackIds)
    {
        lock (_gate)
        {
            if (_subscriptions.TryGetValue(subscriptionName, out var subscription))
            {
                ackIds.RemoveWhere(ackId => !subscription.IsLeased(ackId));
            }
            else
            {
                ackIds.Clear();
            }

            return ackIds.Count;
        }
    }

    internal bool IsMessageOrderingEnabled(string subscriptionName)
    {
        lock (_gate)
        {
            return FindSubscription(subscriptionName).Spec.EnableMessageOrdering;
        }
    }

    /// <summary>
    /// Takes every push that is due and allowed to start, takes back pulled messages whose lease ran out, and wakes pullers
    /// of messages that became due; returns when to look again (null: when signalled).
    /// </summary>
    internal (IReadOnlyList<(SubscriptionRuntime Subscription, PendingPush Push)> Due, DateTimeOffset? WakeAt) TakeDue()
    {
        var due = new List<(SubscriptionRuntime, PendingPush)>();
        DateTimeOffset? wakeAt = null;
        void WakeAt(DateTimeOffset? time)
        {
            if (time is { } at && (wakeAt is null || at < wakeAt))
            {
                wakeAt = at;
            }
        }

        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            foreach (var subscription in _subscriptions.Values)
            {
                foreach (var expired in subscription.TakeExpiredLeases(now))
                {
                    NackLocked(subscription, expired, now);
                }

                WakeAt(subscription.NextLeaseExpiry);
                if (subscription.Spec.IsPull)
                {
                    if (subscription.NextDue is { } next)
                    {
                        if (next <= now)
                        {
                            subscription.Ready.Set();
                        }
                        else
                        {
                            WakeAt(next);
                        }
                    }

                    continue;
                }

                while (subscription.InFlight < Options.MaxOutstandingPushesPerSubscription && subscription.TryTakeDue(now, out var push))
                {
                    subscription.InFlight++;
                    Interlocked.Increment(ref _inFlight);
                    due.Add((subscription, push));
                }

                // A subscription at its push limit is woken by a finishing push, not by the clock.
                if (subscription.InFlight < Options.MaxOutstandingPushesPerSubscription)
                {
                    WakeAt(subscription.NextDue);
                }
            }
        }

        return (due, wakeAt);
    }

    /// <summary>Settles one push: ack, or nack with a backoff, dead letter or expiry.</summary>
    internal void Complete(SubscriptionRuntime subscription, PendingPush push, DateTimeOffset dispatchedAt, int? status, string? error)
    {
        PushAttempt attempt;
        lock (_gate)
        {
            var completed = _timeProvider.GetUtcNow();
            push.DeliveryAttempts++;
            subscription.InFlight--;
            var outcome = status is 102 or 200 or 201 or 202 or 204
                ? AcknowledgeLocked(subscription, push, completed)
                : NackLocked(subscription, push, completed);
            attempt = new PushAttempt(
                subscription.Spec.Name, push.Message.MessageId, push.DeliveryAttempts, status, error, dispatchedAt, completed, outcome,
                outcome == PushAttemptOutcome.WillRetry ? push.DueAt : null);
            if (_attempts.Count == AttemptHistory)
            {
                _attempts.Dequeue();
            }

            _attempts.Enqueue(attempt);

            // Signal before leaving the in-flight count, so nobody sees the emulator idle while its loop still has work.
            Wake.Set();
            Interlocked.Decrement(ref _inFlight);
        }

        _logger.LogDebug(
            "Pub/Sub emulator push of {MessageId} to {Subscription}, attempt {DeliveryAttempt}: {Status} → {Outcome}",
            attempt.MessageId, attempt.Subscription, attempt.DeliveryAttempt, status?.ToString(CultureInfo.InvariantCulture) ?? error, attempt.Outcome);
        var outcomeTag = attempt.Outcome switch
        {
            PushAttemptOutcome.Acknowledged => "ack",
            PushAttemptOutcome.WillRetry => "retry",
            PushAttemptOutcome.DeadLettered => "dead_letter",
            _ => "expired",
        };
        _pushCounter.Add(1, new KeyValuePair<string, object?>("outcome", outcomeTag), new KeyValuePair<string, object?>("subscription", subscription.Id));
        try
        {
            PushCompleted?.Invoke(this, attempt);
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "A PushCompleted handler failed for message {MessageId}", attempt.MessageId);
        }
    }

    /// <summary>A push cut short by shutdown: nothing is recorded and the message goes back, due as it was.</summary>
    internal void Abandon(SubscriptionRuntime subscription, PendingPush push)
    {
        lock (_gate)
        {
            subscription.InFlight--;
            subscription.Schedule(push);
            Interlocked.Decrement(ref _inFlight);
        }
    }

    void IParkable.Park(DateTimeOffset? until)
    {
        Volatile.Write(ref _parkedUntilTicks, until?.UtcTicks ?? long.MaxValue);
        _parked = true;
    }

    void IParkable.Unpark() => _parked = false;

    private bool IsQuiet(DateTimeOffset now) =>
        _parked
        && !Wake.IsSet
        && Volatile.Read(ref _parkedUntilTicks) > now.UtcTicks
        && Volatile.Read(ref _inFlight) == 0;

    private Subscription AddSubscription(SubscriptionSpec spec)
    {
        if (spec.Problems().FirstOrDefault() is { } problem)
        {
            throw ApiException.InvalidArgument($"Invalid subscription: {problem}");
        }

        lock (_gate)
        {
            if (_subscriptions.ContainsKey(spec.Name))
            {
                throw ResourceExists(spec.Name);
            }

            var topic = FindTopic(spec.Topic);
            CheckDeadLetterTopicLocked(spec);
            var subscription = new SubscriptionRuntime(spec);
            _subscriptions[spec.Name] = subscription;
            topic.Subscriptions.Add(subscription);
            return spec.ToResource();
        }
    }

    private Subscription Replace(SubscriptionRuntime subscription, Subscription merged)
    {
        var spec = SubscriptionSpec.FromResource(merged);
        if (spec.EnableMessageOrdering != subscription.Spec.EnableMessageOrdering)
        {
            throw ApiException.InvalidArgument("enable_message_ordering cannot be changed after the subscription is created.");
        }

        CheckDeadLetterTopicLocked(spec);
        subscription.Spec = spec;
        Wake.Set();
        subscription.Ready.Set();
        return spec.ToResource();
    }

    private void CheckDeadLetterTopicLocked(SubscriptionSpec spec)
    {
        if (spec.DeadLetterPolicy is { } deadLetter && !_topics.ContainsKey(deadLetter.DeadLetterTopic))
        {
            throw ResourceNotFound(deadLetter.DeadLetterTopic);
        }
    }

    private PushAttemptOutcome AcknowledgeLocked(SubscriptionRuntime subscription, PendingPush push, DateTimeOffset now)
    {
        subscription.Finish(push, now);
        return PushAttemptOutcome.Acknowledged;
    }

    /// <summary>A delivery that failed (push) or was handed back or ran out (pull): retry later, dead-letter or expire.</summary>
    private PushAttemptOutcome NackLocked(SubscriptionRuntime subscription, PendingPush push, DateTimeOffset now)
    {
        var spec = subscription.Spec;
        if (subscription.Deleted)
        {
            return PushAttemptOutcome.Expired;
        }

        if (spec.DeadLetterPolicy is { } deadLetter && push.DeliveryAttempts >= deadLetter.MaxDeliveryAttempts && _topics.ContainsKey(deadLetter.DeadLetterTopic))
        {
            var forwarded = ForwardToDeadLetterLocked(spec, deadLetter, push, now);
            subscription.Finish(push, now);
            _logger.LogWarning(
                "Pub/Sub emulator moved message {MessageId} from subscription {Subscription} to dead-letter topic {DeadLetterTopic} as {DeadLetterMessageId} after {DeliveryAttempts} delivery attempts",
                push.Message.MessageId, spec.Name, deadLetter.DeadLetterTopic, forwarded.MessageId, push.DeliveryAttempts);
            return PushAttemptOutcome.DeadLettered;
        }

        if (now - push.Message.PublishTime >= spec.MessageRetention)
        {
            subscription.Finish(push, now);
            _logger.LogWarning(
                "Pub/Sub emulator dropped message {MessageId} on subscription {Subscription}: unacknowledged past the retention of {Retention}",
                push.Message.MessageId, spec.Name, spec.MessageRetention);
            return PushAttemptOutcome.Expired;
        }

        push.DueAt = now + spec.Backoff(push.DeliveryAttempts);
        subscription.Schedule(push);
        return PushAttemptOutcome.WillRetry;
    }

    private EmulatedMessage PublishLocked(TopicRuntime topic, OutgoingMessage outgoing, DateTimeOffset now)
    {
        var id = Interlocked.Increment(ref _lastMessageId).ToString(CultureInfo.InvariantCulture);
        var message = new EmulatedMessage(topic.Name, id, outgoing.Data, outgoing.Attributes, outgoing.OrderingKey, now);
        if (Options.RetainedMessagesPerTopic > 0 && message.Data.Length <= Options.RetainedBytesPerTopic)
        {
            while (topic.Retained.Count >= Options.RetainedMessagesPerTopic
                || topic.RetainedBytes + message.Data.Length > Options.RetainedBytesPerTopic)
            {
                topic.RetainedBytes -= topic.Retained.Dequeue().Data.Length;
            }

            topic.Retained.Enqueue(message);
            topic.RetainedBytes += message.Data.Length;
        }

        // As in Pub/Sub, a topic without subscriptions keeps nothing for delivery: the message is only listable here.
        foreach (var subscription in topic.Subscriptions)
        {
            subscription.Enqueue(message, now);
        }

        return message;
    }

    private EmulatedMessage ForwardToDeadLetterLocked(SubscriptionSpec spec, PushDeadLetterPolicy deadLetter, PendingPush push, DateTimeOffset now)
    {
        var attributes = new Dictionary<string, string>(push.Message.Attributes, StringComparer.Ordinal)
        {
            [DeadLetterDeliveryCount] = push.DeliveryAttempts.ToString(CultureInfo.InvariantCulture),
            [DeadLetterSubscription] = PubSubNames.IdOf(spec.Name),
            [DeadLetterSubscriptionProject] = PubSubNames.ProjectOf(spec.Name),
            [DeadLetterTopicPublishTime] = GoogleJson.Timestamp(push.Message.PublishTime),
        };
        return PublishLocked(_topics[deadLetter.DeadLetterTopic], new OutgoingMessage(push.Message.Data, attributes, push.Message.OrderingKey), now);
    }

    private TopicRuntime FindTopic(string name) =>
        _topics.TryGetValue(name, out var topic) ? topic : throw ResourceNotFound(name);

    private SubscriptionRuntime FindSubscription(string name) =>
        _subscriptions.TryGetValue(name, out var subscription) ? subscription : throw ResourceNotFound(name);

    internal static PubsubMessage ToResource(EmulatedMessage message)
    {
        var resource = new PubsubMessage
        {
            Data = ByteString.CopyFrom(message.Data.Span),
            Attributes = { message.Attributes.ToDictionary() },
            MessageId = message.MessageId,
            PublishTime = Timestamp.FromDateTimeOffset(message.PublishTime),
        };
        if (!string.IsNullOrEmpty(message.OrderingKey))
        {
            resource.OrderingKey = message.OrderingKey;
        }

        return resource;
    }

    /// <summary>Only the fields named, and only settable ones: Pub/Sub refuses an update without a mask.</summary>
    private static FieldMask RequireMask<T>(FieldMask? mask, IReadOnlyCollection<string> settable)
        where T : IMessage, new()
    {
        if (mask is null || mask.Paths.Count == 0)
        {
            throw ApiException.InvalidArgument("update_mask is required: name the fields to change.");
        }

        if (!FieldMask.IsValid<T>(mask))
        {
            throw ApiException.InvalidArgument($"Invalid update_mask '{mask}'.");
        }

        foreach (var path in mask.Paths)
        {
            if (!settable.Any(field => path == field || path.StartsWith($"{field}.", StringComparison.Ordinal)))
            {
                throw ApiException.InvalidArgument($"update_mask names '{path}', which cannot be updated here; settable: {string.Join(", ", settable)}.");
            }
        }

        return mask;
    }

    private static void CheckTopicSettings(Topic topic)
    {
        if (topic.SchemaSettings is not null)
        {
            throw ApiException.InvalidArgument("The twin does not validate schemas: leave topic.schemaSettings unset.");
        }

        if (PubSubNames.LabelsProblem(topic.Labels) is { } labels)
        {
            throw ApiException.InvalidArgument($"Invalid topic labels: {labels}");
        }

        if (topic.MessageRetentionDuration?.ToTimeSpan() is { } retention
            && (retention < SubscriptionSpec.MinRetention || retention > SubscriptionSpec.MaxRetention))
        {
            throw ApiException.InvalidArgument("Topic message_retention_duration must be between 10 minutes and 31 days.");
        }
    }

    private static OutgoingMessage Outgoing(PubsubMessage message, string path)
    {
        if (message.Data.IsEmpty && message.Attributes.Count == 0)
        {
            throw ApiException.InvalidArgument($"{path} has neither data nor attributes: a message needs one of them.");
        }

        if (message.Attributes.Count > MaxAttributes)
        {
            throw ApiException.InvalidArgument($"{path} has {message.Attributes.Count} attributes; at most {MaxAttributes} are allowed.");
        }

        foreach (var (key, value) in message.Attributes)
        {
            if (key.Length == 0 || Encoding.UTF8.GetByteCount(key) > MaxAttributeKeyBytes)
            {
                throw ApiException.InvalidArgument($"{path}.attributes has a key that is empty or longer than {MaxAttributeKeyBytes} bytes.");
            }

            if (key.StartsWith("goog", StringComparison.OrdinalIgnoreCase))
            {
                throw ApiException.InvalidArgument($"{path}.attributes key '{key}' is reserved: keys must not start with 'goog'.");
            }

            if (Encoding.UTF8.GetByteCount(value) > MaxAttributeValueBytes)
            {
                throw ApiException.InvalidArgument($"{path}.attributes['{key}'] is longer than {MaxAttributeValueBytes} bytes.");
            }
        }

        if (Encoding.UTF8.GetByteCount(message.OrderingKey) > MaxOrderingKeyBytes)
        {
            throw ApiException.InvalidArgument($"{path}.ordering_key is longer than {MaxOrderingKeyBytes} bytes.");
        }

        return new OutgoingMessage(
            message.Data.ToByteArray(),
            new Dictionary<string, string>(message.Attributes, StringComparer.Ordinal),
            message.OrderingKey.Length == 0 ? null : message.OrderingKey);
    }

    private static void CheckTopicName(string name)
    {
        if (PubSubNames.TopicProblem(name) is { } problem)
        {
            throw ApiException.InvalidArgument($"Invalid [topics] name: {problem}");
        }
    }

    private static void CheckSubscriptionName(string name)
    {
        if (PubSubNames.SubscriptionProblem(name) is { } problem)
        {
            throw ApiException.InvalidArgument($"Invalid [subscriptions] name: {problem}");
        }
    }

    /// <summary>Pub/Sub's wording when a topic or subscription is missing: it names the id, not the full name.</summary>
    private static ApiException ResourceNotFound(string name) => ApiException.NotFound($"Resource not found (resource={PubSubNames.IdOf(name)}).");

    private static ApiException ResourceExists(string name) => ApiException.AlreadyExists($"Resource already exists in the project (resource={PubSubNames.IdOf(name)}).");
}

/// <summary>A message as a publisher sends it, already validated.</summary>
internal sealed record OutgoingMessage(ReadOnlyMemory<byte> Data, IReadOnlyDictionary<string, string> Attributes, string? OrderingKey);
