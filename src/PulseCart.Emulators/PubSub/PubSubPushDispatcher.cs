using PulseCart.Emulators.Dispatching;
using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PulseCart.Emulators.Api;
using PulseCart.Emulators.Oidc;

namespace PulseCart.Emulators.PubSub;

/// <summary>
/// Pushes each subscription's due messages to its endpoint as Pub/Sub would (wrapped envelope or raw data, OIDC token,
/// the ack deadline as the request timeout), settles the answer as an ack or a nack, and keeps to each subscription's
/// push limit. All waiting is on the injected <see cref="TimeProvider"/>, so a test's fake clock drives it.
/// </summary>
internal sealed class PubSubPushDispatcher(
    PubSubEmulator emulator,
    IHttpClientFactory httpClientFactory,
    LocalOidcIssuer oidcIssuer,
    TimeProvider timeProvider,
    ILogger<PubSubPushDispatcher> logger) : BackgroundService
{
    // What Pub/Sub's push requests carry as their User-Agent.
    private const string UserAgent = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)";
    private const string MetadataHeaderPrefix = "x-goog-pubsub-";
    private const string CloudEventSpecVersion = "1.0";
    private const string CloudEventType = "google.cloud.pubsub.topic.v1.messagePublished";

    // Headers HTTP or the push itself owns: an attribute by one of these names is not sent as a header.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "User-Agent", "Content-Length", "Content-Type", "Authorization", "Transfer-Encoding", "Connection",
        "Expect", "Upgrade", "TE", "Trailer", "Keep-Alive", "Proxy-Connection",
    };

    private readonly ConcurrentDictionary<Task, byte> _pushes = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Reset before looking, so a publish that lands after the look still wakes the next park.
                emulator.Wake.Reset();
                var (due, wakeAt) = emulator.TakeDue();
                foreach (var (subscription, push) in due)
                {
                    var pushing = PushAsync(subscription, push, stoppingToken);
                    _pushes[pushing] = 0;
                    _ = pushing.ContinueWith(finished => _pushes.TryRemove(finished, out _), TaskScheduler.Default);
                }

                await Parking.ParkAsync(emulator, timeProvider, wakeAt, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await Task.WhenAll(_pushes.Keys).ConfigureAwait(false);
        }
    }

    private async Task PushAsync(SubscriptionRuntime subscription, PendingPush push, CancellationToken stoppingToken)
    {
        // Off the loop's thread, so a slow endpoint never holds up the next push.
        await Task.Yield();
        var dispatchedAt = timeProvider.GetUtcNow();
        int? status = null;
        string? error = null;
        try
        {
            using var request = BuildRequest(subscription.Spec, push);

            // The ack deadline is the push request's timeout: no answer in time is a nack.
            using var deadline = new CancellationTokenSource(subscription.Spec.AckDeadline, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stoppingToken);
            var client = httpClientFactory.CreateClient(PubSubEmulator.HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            emulator.Abandon(subscription, push);
            return;
        }
        catch (OperationCanceledException)
        {
            error = "DEADLINE_EXCEEDED";
        }
        catch (HttpRequestException exception)
        {
            error = $"UNAVAILABLE: {exception.Message}";
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Pub/Sub emulator could not push message {MessageId} to {Subscription}; it counts as a nack", push.Message.MessageId, subscription.Spec.Name);
            error = $"INTERNAL: {exception.GetType().Name}";
        }

        emulator.Complete(subscription, push, dispatchedAt, status, error);
    }

    private HttpRequestMessage BuildRequest(SubscriptionSpec spec, PendingPush push)
    {
        var message = push.Message;
        var request = new HttpRequestMessage(HttpMethod.Post, spec.PushEndpoint);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        if (spec.NoWrapper is { } noWrapper)
        {
            request.Content = new ReadOnlyMemoryContent(message.Data);
            if (noWrapper.WriteMetadata)
            {
                AddMetadataHeaders(request, spec, message);
            }
        }
        else if (spec.Eventarc is { } eventarc)
        {
            request.Content = CloudEvent(message, eventarc, Envelope(spec, push, forEventarc: true));
            if (eventarc == EventarcMode.Binary)
            {
                AddCloudEventHeaders(request, message);
            }
        }
        else
        {
            request.Content = new StringContent(Envelope(spec, push, forEventarc: false).ToJsonString());
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (spec.OidcToken is { } oidc)
        {
            var token = oidcIssuer.CreateToken(oidc.Audience ?? spec.PushEndpoint!, oidc.ServiceAccountEmail);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>
    /// The wrapped push body, <c>{"message":{…},"subscription":"…"}</c>, with the message id and publish time under both
    /// their camelCase and snake_case names as Pub/Sub writes them, and <c>deliveryAttempt</c> only with a dead-letter
    /// policy. Eventarc's <c>MessagePublishedData</c> has the same shape without the delivery attempt.
    /// </summary>
    private static JsonObject Envelope(SubscriptionSpec spec, PendingPush push, bool forEventarc)
    {
        var message = JsonNode.Parse(GoogleJson.Format(PubSubEmulator.ToResource(push.Message)))!.AsObject();
        message["message_id"] = push.Message.MessageId;
        message["publish_time"] = message["publishTime"]!.GetValue<string>();
        var envelope = new JsonObject { ["message"] = message, ["subscription"] = spec.Name };
        if (!forEventarc && spec.DeadLetterPolicy is not null)
        {
            envelope["deliveryAttempt"] = push.DeliveryAttempts + 1;
        }

        return envelope;
    }

    /// <summary>
    /// The CloudEvent Eventarc delivers for a Pub/Sub message (type <c>google.cloud.pubsub.topic.v1.messagePublished</c>):
    /// binary mode sends the envelope as a JSON body, structured mode wraps it as the event's <c>data</c>.
    /// </summary>
    private static HttpContent CloudEvent(EmulatedMessage message, EventarcMode mode, JsonObject data)
    {
        if (mode == EventarcMode.Binary)
        {
            return new StringContent(data.ToJsonString());
        }

        var structured = new JsonObject
        {
            ["specversion"] = CloudEventSpecVersion,
            ["id"] = message.MessageId,
            ["source"] = CloudEventSource(message),
            ["type"] = CloudEventType,
            ["time"] = GoogleJson.Timestamp(message.PublishTime),
            ["datacontenttype"] = "application/json",
            ["data"] = data,
        };
        var content = new StringContent(structured.ToJsonString());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json") { CharSet = "utf-8" };
        return content;
    }

    private static void AddCloudEventHeaders(HttpRequestMessage request, EmulatedMessage message)
    {
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("ce-id", message.MessageId);
        request.Headers.TryAddWithoutValidation("ce-source", CloudEventSource(message));
        request.Headers.TryAddWithoutValidation("ce-specversion", CloudEventSpecVersion);
        request.Headers.TryAddWithoutValidation("ce-type", CloudEventType);
        request.Headers.TryAddWithoutValidation("ce-time", GoogleJson.Timestamp(message.PublishTime));
    }

    private static string CloudEventSource(EmulatedMessage message) => $"//pubsub.googleapis.com/{message.Topic}";

    private static void AddMetadataHeaders(HttpRequestMessage request, SubscriptionSpec spec, EmulatedMessage message)
    {
        request.Headers.TryAddWithoutValidation($"{MetadataHeaderPrefix}message-id", message.MessageId);
        request.Headers.TryAddWithoutValidation($"{MetadataHeaderPrefix}publish-time", GoogleJson.Timestamp(message.PublishTime));
        request.Headers.TryAddWithoutValidation($"{MetadataHeaderPrefix}subscription-name", spec.Name);
        if (!string.IsNullOrEmpty(message.OrderingKey))
        {
            request.Headers.TryAddWithoutValidation($"{MetadataHeaderPrefix}ordering-key", message.OrderingKey);
        }

        foreach (var (name, value) in message.Attributes)
        {
            // An attribute that cannot be a header (or would pose as HTTP's own or Pub/Sub's metadata) is left out.
            if (ReservedHeaders.Contains(name)
                || name.StartsWith(MetadataHeaderPrefix, StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
                || value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                continue;
            }

            request.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
