using System.Net.Http.Headers;
using System.Text.Json;

namespace PulseCart.Google.CloudTasks;

/// <summary>A reminder task still waiting in the queue, as operators see it.</summary>
public sealed record PendingReminder(string TaskName, DateTimeOffset? DueAt, string? CartId, string? UserId, string? ReminderId);

public sealed partial class CloudTasksQueue
{
    /// <summary>
    /// The reminder tasks waiting in the queue (one page, at most <paramref name="max"/>), read with the FULL view so
    /// each task's body names its cart. Needs <c>cloudtasks.tasks.fullView</c> on a real queue.
    /// </summary>
    public async Task<IReadOnlyList<PendingReminder>> ListPendingAsync(int max, CancellationToken cancellationToken = default)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        var uri = new Uri($"{_options.BaseUrl.AbsoluteUri.TrimEnd('/')}/v2/{_options.QueuePath}/tasks?responseView=FULL&pageSize={Math.Clamp(max, 1, 1000)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        var token = await accessTokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new CloudTasksException(
                $"Cloud Tasks refused to list tasks on queue {_options.QueuePath}: HTTP {(int)response.StatusCode}", response.StatusCode, null);
        }

        var page = await JsonSerializer.DeserializeAsync(
            await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false),
            CloudTasksRestJsonContext.Default.ListTasksResponse,
            cancellationToken).ConfigureAwait(false);
        return (page?.Tasks ?? []).Select(Describe).OrderBy(reminder => reminder.DueAt).ToList();
    }

    private static PendingReminder Describe(CloudTaskResource task)
    {
        DateTimeOffset? dueAt = DateTimeOffset.TryParse(task.ScheduleTime, out var parsed) ? parsed : null;
        CartReminderCallback? callback = null;
        try
        {
            if (task.HttpRequest?.Body is { } body)
            {
                callback = JsonSerializer.Deserialize(Convert.FromBase64String(body), CartReminderJsonContext.Default.CartReminderCallback);
            }
        }
        catch (Exception exception) when (exception is FormatException or JsonException)
        {
            // A task this consumer did not create: list it without a cart.
        }

        return new PendingReminder(task.Name, dueAt, callback?.CartId, callback?.UserId, callback?.ReminderId);
    }
}
