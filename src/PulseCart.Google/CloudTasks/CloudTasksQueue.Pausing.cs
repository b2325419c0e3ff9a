using System.Net;
using Google.Protobuf;
using PulseCart.GoogleApis.CloudTasks.V2;
using HttpMethod = System.Net.Http.HttpMethod;

namespace PulseCart.Google.CloudTasks;

public sealed partial class CloudTasksQueue
{
    /// <summary>
    /// What the consumer's service account needs on the queue to pause and resume it: <c>cloudtasks.queues.get</c>,
    /// <c>.pause</c> and <c>.resume</c>, which <c>roles/cloudtasks.queueAdmin</c> holds (no narrower predefined role does).
    /// </summary>
    public const string PauseRole = "roles/cloudtasks.queueAdmin";

    /// <summary>The queue's state as Cloud Tasks reports it (<c>RUNNING</c>, <c>PAUSED</c> or <c>DISABLED</c>).</summary>
    public async Task<Queue.Types.State> GetStateAsync(CancellationToken cancellationToken = default) =>
        (await QueueCallAsync(HttpMethod.Get, _options.QueuePath, "read the state", cancellationToken).ConfigureAwait(false)).State;

    /// <summary>
    /// <c>queues.pause</c>: the queue keeps accepting (and deleting) tasks but dispatches none until resumed. Pausing a paused
    /// queue changes nothing. Returns the state Cloud Tasks answers with.
    /// </summary>
    public async Task<Queue.Types.State> PauseAsync(CancellationToken cancellationToken = default) =>
        (await QueueCallAsync(HttpMethod.Post, $"{_options.QueuePath}:pause", "pause dispatching", cancellationToken).ConfigureAwait(false)).State;

    /// <summary><c>queues.resume</c>: tasks that came due while paused are dispatched, within the queue's rate limits.</summary>
    public async Task<Queue.Types.State> ResumeAsync(CancellationToken cancellationToken = default) =>
        (await QueueCallAsync(HttpMethod.Post, $"{_options.QueuePath}:resume", "resume dispatching", cancellationToken).ConfigureAwait(false)).State;

    private async Task<Queue> QueueCallAsync(HttpMethod method, string resourcePath, string action, CancellationToken cancellationToken)
    {
        // pause and resume take an empty request message ({"name"} travels in the URL).
        var body = method == HttpMethod.Post ? "{}" : null;
        var (_, content) = await SendAsync(method, resourcePath, body, action, HttpStatusCode.OK, readBody: true, cancellationToken).ConfigureAwait(false);
        try
        {
            return string.IsNullOrEmpty(content) ? new Queue() : Parser.Parse<Queue>(content);
        }
        catch (Exception exception) when (exception is InvalidProtocolBufferException or InvalidJsonException)
        {
            throw new CloudTasksException($"Cloud Tasks answered {action} on queue {_options.QueuePath} with a body that is not a queue: {exception.Message}");
        }
    }
}
