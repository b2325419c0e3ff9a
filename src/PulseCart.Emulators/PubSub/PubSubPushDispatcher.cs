using PulseCart.Emulators.Dispatching;
using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PulseCart.Emulators.CloudTasks;
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

    // Task.Delay cannot wait longer than about 49 days; the loop simply looks again after this.

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
        else
        {
            request.Content = new ReadOnlyMemoryContent(Envelope(spec, push));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (spec.OidcToken is { } oidc)
        {
            var token = oidcIssuer.CreateToken(oidc.Audience ?? spec.PushEndpoint, oidc.ServiceAccountEmail);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    private static byte[] Envelope(SubscriptionSpec spec, PendingPush push)
    {
        var message = push.Message;
        var publishTime = GoogleWireFormat.Timestamp(message.PublishTime);
        var envelope = new PushEnvelope(
            new PushedMessage(
                message.Data.IsEmpty ? null : Convert.ToBase64String(message.Data.Span),
                message.Attributes.Count == 0 ? null : message.Attributes,
                message.MessageId,
                message.MessageId,
                publishTime,
                publishTime,
                string.IsNullOrEmpty(message.OrderingKey) ? null : message.OrderingKey),
            spec.Name,
            spec.DeadLetterPolicy is null ? null : push.DeliveryAttempts + 1);
        return JsonSerializer.SerializeToUtf8Bytes(envelope, PubSubResourceJsonContext.Default.PushEnvelope);
    }

    private static void AddMetadataHeaders(HttpRequestMessage request, SubscriptionSpec spec, EmulatedMessage message)
    {
        request.Headers.TryAddWithoutValidation($"{MetadataHeaderPrefix}message-id", message.MessageId);
        request.Headers.TryAddWithoutValidation($"{MetadataHeaderPrefix}publish-time", GoogleWireFormat.Timestamp(message.PublishTime));
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
