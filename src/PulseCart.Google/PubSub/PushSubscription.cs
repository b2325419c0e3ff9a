using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly.Timeout;
using PulseCart.Google.Credentials;
using PulseCart.GoogleApis;
using PulseCart.GoogleApis.PubSub.V1;
using HttpMethod = System.Net.Http.HttpMethod;
using Task = System.Threading.Tasks.Task;

namespace PulseCart.Google.PubSub;

/// <summary>
/// The push subscription that feeds the consumer, administered through the Pub/Sub v1 REST API (or a twin): read its
/// push config, and change it with <c>modifyPushConfig</c>. An empty push config detaches the endpoint, so messages wait
/// in the subscription (as for a pull subscription nobody pulls) without a delivery attempt being counted; the saved
/// config, put back, restores pushing exactly as it was, OIDC token settings included.
/// </summary>
public sealed class PushSubscription(
    IHttpClientFactory httpClientFactory,
    IOptions<PubSubOptions> options,
    [FromKeyedServices(PushSubscription.HttpClientName)] IAccessTokenSource accessTokens)
{
    /// <summary>The named <see cref="HttpClient"/> the calls go through.</summary>
    public const string HttpClientName = "PulseCart.PubSub";

    /// <summary>
    /// What the consumer's service account needs on the subscription to pause and resume pushes:
    /// <c>pubsub.subscriptions.get</c> and <c>pubsub.subscriptions.update</c>, both in <c>roles/pubsub.editor</c>.
    /// </summary>
    public const string PauseRole = "roles/pubsub.editor";

    /// <summary>Restoring a push config with an OIDC token needs <c>iam.serviceAccounts.actAs</c> on the token's account.</summary>
    public const string ActAsRole = "roles/iam.serviceAccountUser";

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private readonly PubSubOptions _options = options.Value;

    /// <summary><c>projects/P/subscriptions/S</c>, or null when none is configured (pushes cannot then be paused).</summary>
    public string? Name => _options.SubscriptionPath;

    /// <summary>The subscription as Pub/Sub describes it; its <c>pushConfig</c> is empty while detached.</summary>
    public async Task<Subscription> GetAsync(CancellationToken cancellationToken = default)
    {
        var content = await SendAsync(HttpMethod.Get, RequiredName(), body: null, "read", cancellationToken).ConfigureAwait(false);
        try
        {
            return Parser.Parse<Subscription>(content);
        }
        catch (Exception exception) when (exception is InvalidProtocolBufferException or InvalidJsonException)
        {
            throw new PubSubException($"Pub/Sub answered the read of subscription {Name} with a body that is not a subscription: {exception.Message}");
        }
    }

    /// <summary>
    /// <c>modifyPushConfig</c>: an empty <paramref name="pushConfig"/> stops pushing (messages stay in the subscription);
    /// one with a <c>pushEndpoint</c> pushes there again.
    /// </summary>
    public async Task ModifyPushConfigAsync(PushConfig pushConfig, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pushConfig);
        var body = JsonFormatter.Default.Format(new ModifyPushConfigRequest { PushConfig = pushConfig });
        var action = pushConfig.PushEndpoint.Length == 0 ? "detach the push endpoint of" : $"restore the push endpoint {pushConfig.PushEndpoint} of";
        await SendAsync(HttpMethod.Post, $"{RequiredName()}:modifyPushConfig", body, action, cancellationToken).ConfigureAwait(false);
    }

    private string RequiredName() =>
        Name ?? throw new InvalidOperationException($"No subscription is configured: set {PubSubOptions.Section}:Subscription (or {PubSubOptions.Section}:ProjectId).");

    private async Task<string> SendAsync(HttpMethod method, string resourcePath, string? body, string action, CancellationToken cancellationToken)
    {
        var subject = $"{action} subscription {Name}";
        try
        {
            using var request = new HttpRequestMessage(method, new Uri($"{_options.BaseUrl.AbsoluteUri.TrimEnd('/')}/v1/{resourcePath}"));
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
            }

            var token = await AccessTokenException.GetAsync(accessTokens, _options.TotalTimeout, cancellationToken).ConfigureAwait(false);
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, cancellationToken).ConfigureAwait(false);
            var content = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return content;
            }

            var error = ReadError(content);
            var googleStatus = error?.Status is { Length: > 0 } status ? status : null;
            throw new PubSubException(
                $"Pub/Sub refused to {subject}: HTTP {(int)response.StatusCode}{(googleStatus is null ? "" : $" {googleStatus}")}: {error?.Message ?? response.ReasonPhrase}",
                response.StatusCode, googleStatus);
        }
        catch (AccessTokenException exception)
        {
            throw new PubSubException($"Pub/Sub was not asked to {subject}: {exception.Message}", innerException: exception);
        }
        catch (HttpRequestException exception)
        {
            throw new PubSubException($"Pub/Sub could not {subject}: no answer ({exception.Message})", innerException: exception);
        }
        catch (TimeoutRejectedException exception)
        {
            throw new PubSubException($"Pub/Sub could not {subject}: no answer within {_options.TotalTimeout.TotalSeconds:0.#} s", innerException: exception);
        }
    }

    private static RestError? ReadError(string content)
    {
        try
        {
            return content.Length == 0 ? null : Parser.Parse<RestErrorResponse>(content).Error;
        }
        catch (Exception exception) when (exception is InvalidProtocolBufferException or InvalidJsonException)
        {
            // Proxies and load balancers answer with HTML; the status code alone still says what happened.
            return null;
        }
    }
}
