using System.Text.Json;
using PulseCart.GoogleApis.CloudTasks.V2;
using CloudTask = PulseCart.GoogleApis.CloudTasks.V2.Task;
using HttpMethod = System.Net.Http.HttpMethod;

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
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiUri($"{_options.QueuePath}/tasks?responseView=FULL&pageSize={Math.Clamp(max, 1, 1000)}"));
        await AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);
        using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new CloudTasksException(
                $"Cloud Tasks refused to list tasks on queue {_options.QueuePath}: HTTP {(int)response.StatusCode}", response.StatusCode, null);
        }

        var page = Parser.Parse<ListTasksResponse>(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        return page.Tasks.Select(Describe).OrderBy(reminder => reminder.DueAt).ToList();
    }

    private static PendingReminder Describe(CloudTask task)
    {
        DateTimeOffset? dueAt = task.ScheduleTime?.ToDateTimeOffset();
        CartReminderCallback? callback = null;
        try
        {
            if (task.HttpRequest is { Body.IsEmpty: false } http)
            {
                callback = JsonSerializer.Deserialize(http.Body.Span, CartReminderJsonContext.Default.CartReminderCallback);
            }
        }
        catch (JsonException)
        {
            // A task this consumer did not create: list it without a cart.
        }

        return new PendingReminder(task.Name, dueAt, callback?.CartId, callback?.UserId, callback?.ReminderId);
    }
}
