using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.CloudTasks;

using PulseCart.Emulators.Dispatching;

namespace PulseCart.Emulators.PubSub;

/// <summary>
/// The embedded Pub/Sub emulator: topics, push subscriptions and their backlogs, held in memory (a restart loses them),
/// the REST operations behind <see cref="PubSubEmulatorEndpoints"/>, and what operators and tests can watch: every push
/// (<see cref="Attempts"/>, <see cref="PushCompleted"/>), the <c>pulsecart.pubsub.push</c> counter, the messages each
/// topic received (<see cref="MessagesOf"/>, dead-letter topics included) and <see cref="WhenIdleAsync"/>.
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
    internal const int MaxAttributes = 100;
    internal const int MaxAttributeKeyBytes = 256;
    internal const int MaxAttributeValueBytes = 1024;
    internal const int MaxOrderingKeyBytes = 1024;

    private const int AttemptHistory = 10_000;

    // The output-only state enums, in proto number order, for writing them as names or numbers.
    internal static readonly string[] TopicStates = ["STATE_UNSPECIFIED", "ACTIVE", "INGESTION_RESOURCE_ERROR"];
    internal static readonly string[] SubscriptionStates = ["STATE_UNSPECIFIED", "ACTIVE", "RESOURCE_ERROR"];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, TopicRuntime> _topics = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SubscriptionRuntime> _subscriptions = new(StringComparer.Ordinal);
    private readonly Queue<PushAttempt> _attempts = new();
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PubSubEmulator> _logger;
    private readonly Counter<long> _pushCounter;
    private long _lastMessageId;
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
            CreateTopic(topic, labels: null, messageRetentionDuration: null);
        }

        foreach (var subscription in Options.Subscriptions)
        {
            CreateSubscription(subscription.ToSpec());
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

    /// <summary>
    /// The messages published to <paramref name="topic"/> (its last <c>RetainedMessagesPerTopic</c>), oldest first. For a
    /// dead-letter topic these are the messages that ran out of delivery attempts.
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

    internal TopicResource CreateTopic(string name, IReadOnlyDictionary<string, string>? labels, string? messageRetentionDuration, bool intEnums = false)
    {
        if (PubSubNames.TopicProblem(name) is { } problem)
        {
            throw PubSubApiException.InvalidArgument($"Invalid [topics] name: {problem}");
        }

        lock (_gate)
        {
            if (_topics.ContainsKey(name))
            {
                throw PubSubApiException.ResourceExists(name);
            }

            var topic = new TopicRuntime(name, labels, messageRetentionDuration);
            _topics[name] = topic;
            return ToResource(topic, intEnums);
        }
    }

    internal TopicResource GetTopic(string name, bool intEnums)
    {
        lock (_gate)
        {
            return ToResource(FindTopic(name), intEnums);
        }
    }

    internal ListTopicsResource ListTopics(string project, bool intEnums)
    {
        var prefix = $"projects/{project}/topics/";
        lock (_gate)
        {
            return new ListTopicsResource(
                [.. _topics.Values.Where(topic => topic.Name.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(topic => topic.Name, StringComparer.Ordinal).Select(topic => ToResource(topic, intEnums))]);
        }
    }

    internal ListTopicSubscriptionsResource ListTopicSubscriptions(string topic)
    {
        lock (_gate)
        {
            return new ListTopicSubscriptionsResource([.. FindTopic(topic).Subscriptions.Select(subscription => subscription.Spec.Name)]);
        }
    }

    internal ListMessagesResource ListMessages(string topic)
    {
        lock (_gate)
        {
            return new ListMessagesResource([.. FindTopic(topic).Retained.Select(ToResource)]);
        }
    }

    internal SubscriptionResource CreateSubscription(SubscriptionSpec spec, bool intEnums = false)
    {
        if (spec.Problems().FirstOrDefault() is { } problem)
        {
            throw PubSubApiException.InvalidArgument($"Invalid subscription: {problem}");
        }

        lock (_gate)
        {
            if (_subscriptions.ContainsKey(spec.Name))
            {
                throw PubSubApiException.ResourceExists(spec.Name);
            }

            var topic = FindTopic(spec.Topic);
            if (spec.DeadLetterPolicy is { } deadLetter && !_topics.ContainsKey(deadLetter.DeadLetterTopic))
            {
                throw PubSubApiException.ResourceNotFound(deadLetter.DeadLetterTopic);
            }

            var subscription = new SubscriptionRuntime(spec);
            _subscriptions[spec.Name] = subscription;
            topic.Subscriptions.Add(subscription);
            return ToResource(subscription, intEnums);
        }
    }

    internal SubscriptionResource GetSubscription(string name, bool intEnums)
    {
        lock (_gate)
        {
            return _subscriptions.TryGetValue(name, out var subscription)
                ? ToResource(subscription, intEnums)
                : throw PubSubApiException.ResourceNotFound(name);
        }
    }

    internal ListSubscriptionsResource ListSubscriptions(string project, bool intEnums)
    {
        var prefix = $"projects/{project}/subscriptions/";
        lock (_gate)
        {
            return new ListSubscriptionsResource(
                [.. _subscriptions.Values.Where(subscription => subscription.Spec.Name.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(subscription => subscription.Spec.Name, StringComparer.Ordinal).Select(subscription => ToResource(subscription, intEnums))]);
        }
    }

    /// <summary>Publishes to every subscription attached now; returns the new message ids in request order.</summary>
    internal IReadOnlyList<string> Publish(string topicName, IReadOnlyList<OutgoingMessage> messages)
    {
        lock (_gate)
        {
            var topic = FindTopic(topicName);
            var now = _timeProvider.GetUtcNow();
            var ids = messages.Select(message => PublishLocked(topic, message, now).MessageId).ToList();
            Wake.Set();
            return ids;
        }
    }

    /// <summary>Takes every push that is due and allowed to start; returns when to look again (null: when signalled).</summary>
    internal (IReadOnlyList<(SubscriptionRuntime Subscription, PendingPush Push)> Due, DateTimeOffset? WakeAt) TakeDue()
    {
        var due = new List<(SubscriptionRuntime, PendingPush)>();
        DateTimeOffset? wakeAt = null;
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            foreach (var subscription in _subscriptions.Values)
            {
                while (subscription.InFlight < Options.MaxOutstandingPushesPerSubscription && subscription.TryTakeDue(now, out var push))
                {
                    subscription.InFlight++;
                    Interlocked.Increment(ref _inFlight);
                    due.Add((subscription, push));
                }

                // A subscription at its push limit is woken by a finishing push, not by the clock.
                if (subscription.InFlight < Options.MaxOutstandingPushesPerSubscription && subscription.NextDue is { } next && (wakeAt is null || next < wakeAt))
                {
                    wakeAt = next;
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
            var spec = subscription.Spec;
            push.DeliveryAttempts++;
            var deliveryAttempt = push.DeliveryAttempts;
            subscription.InFlight--;
            PushAttemptOutcome outcome;
            DateTimeOffset? nextAttempt = null;
            if (status is 102 or 200 or 201 or 202 or 204)
            {
                outcome = PushAttemptOutcome.Acknowledged;
                subscription.Finish(push, completed);
            }
            else if (spec.DeadLetterPolicy is { } deadLetter && deliveryAttempt >= deadLetter.MaxDeliveryAttempts)
            {
                outcome = PushAttemptOutcome.DeadLettered;
                var forwarded = ForwardToDeadLetterLocked(spec, deadLetter, push, completed);
                subscription.Finish(push, completed);
                _logger.LogWarning(
                    "Pub/Sub emulator moved message {MessageId} from subscription {Subscription} to dead-letter topic {DeadLetterTopic} as {DeadLetterMessageId} after {DeliveryAttempts} delivery attempts",
                    push.Message.MessageId, spec.Name, deadLetter.DeadLetterTopic, forwarded.MessageId, deliveryAttempt);
            }
            else if (completed - push.Message.PublishTime >= spec.MessageRetention)
            {
                outcome = PushAttemptOutcome.Expired;
                subscription.Finish(push, completed);
                _logger.LogWarning(
                    "Pub/Sub emulator dropped message {MessageId} on subscription {Subscription}: unacknowledged past the retention of {Retention}",
                    push.Message.MessageId, spec.Name, spec.MessageRetention);
            }
            else
            {
                outcome = PushAttemptOutcome.WillRetry;
                push.DueAt = completed + spec.Backoff(deliveryAttempt);
                nextAttempt = push.DueAt;
                subscription.Schedule(push);
            }

            attempt = new PushAttempt(spec.Name, push.Message.MessageId, deliveryAttempt, status, error, dispatchedAt, completed, outcome, nextAttempt);
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

    internal void Park(DateTimeOffset? until)
    {
        Volatile.Write(ref _parkedUntilTicks, until?.UtcTicks ?? long.MaxValue);
        _parked = true;
    }

    internal void Unpark() => _parked = false;

    WakeSignal IParkable.Wake => Wake;

    void IParkable.Park(DateTimeOffset? until) => Park(until);

    void IParkable.Unpark() => Unpark();

    private bool IsQuiet(DateTimeOffset now) =>
        _parked
        && !Wake.IsSet
        && Volatile.Read(ref _parkedUntilTicks) > now.UtcTicks
        && Volatile.Read(ref _inFlight) == 0;

    private EmulatedMessage PublishLocked(TopicRuntime topic, OutgoingMessage outgoing, DateTimeOffset now)
    {
        var id = Interlocked.Increment(ref _lastMessageId).ToString(CultureInfo.InvariantCulture);
        var message = new EmulatedMessage(topic.Name, id, outgoing.Data, outgoing.Attributes, outgoing.OrderingKey, now);
        if (Options.RetainedMessagesPerTopic > 0)
        {
            if (topic.Retained.Count >= Options.RetainedMessagesPerTopic)
            {
                topic.Retained.Dequeue();
            }

            topic.Retained.Enqueue(message);
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
            [DeadLetterTopicPublishTime] = GoogleWireFormat.Timestamp(push.Message.PublishTime),
        };
        return PublishLocked(_topics[deadLetter.DeadLetterTopic], new OutgoingMessage(push.Message.Data, attributes, push.Message.OrderingKey), now);
    }

    private TopicRuntime FindTopic(string name) =>
        _topics.TryGetValue(name, out var topic) ? topic : throw PubSubApiException.ResourceNotFound(name);

    private static TopicResource ToResource(TopicRuntime topic, bool intEnums) =>
        new(topic.Name, topic.Labels, topic.MessageRetentionDuration, ProtoJson.EnumValue(TopicStates, "ACTIVE", intEnums));

    private static SubscriptionResource ToResource(SubscriptionRuntime subscription, bool intEnums)
    {
        var spec = subscription.Spec;
        return new SubscriptionResource(
            spec.Name,
            spec.Topic,
            new PushConfigResource(
                spec.PushEndpoint,
                spec.OidcToken is { } oidc ? new OidcTokenResource(oidc.ServiceAccountEmail, oidc.Audience) : null,
                spec.NoWrapper is { } noWrapper ? new NoWrapperResource(noWrapper.WriteMetadata ? true : null) : null),
            (int)spec.AckDeadline.TotalSeconds,
            GoogleWireFormat.Duration(spec.MessageRetention),
            spec.RetryPolicy.Explicit
                ? new RetryPolicyResource(GoogleWireFormat.Duration(spec.RetryPolicy.MinimumBackoff), GoogleWireFormat.Duration(spec.RetryPolicy.MaximumBackoff))
                : null,
            spec.DeadLetterPolicy is { } deadLetter ? new DeadLetterPolicyResource(deadLetter.DeadLetterTopic, deadLetter.MaxDeliveryAttempts) : null,
            spec.EnableMessageOrdering ? true : null,
            spec.Labels,
            ProtoJson.EnumValue(SubscriptionStates, "ACTIVE", intEnums));
    }

    private static PubsubMessageResource ToResource(EmulatedMessage message) =>
        new(
            message.Data.IsEmpty ? null : Convert.ToBase64String(message.Data.Span),
            message.Attributes.Count == 0 ? null : message.Attributes,
            message.MessageId,
            GoogleWireFormat.Timestamp(message.PublishTime),
            string.IsNullOrEmpty(message.OrderingKey) ? null : message.OrderingKey);
}

/// <summary>A message as a publisher sends it, already validated.</summary>
internal sealed record OutgoingMessage(ReadOnlyMemory<byte> Data, IReadOnlyDictionary<string, string> Attributes, string? OrderingKey);
