using System.Text.Json;
using PulseCart.GoogleApis.CloudTasks.V2;
using CloudTask = PulseCart.GoogleApis.CloudTasks.V2.Task;
using HttpMethod = System.Net.Http.HttpMethod;

namespace PulseCart.Google.CloudTasks;

/// <summary>A reminder task still waiting in the queue, as operators see it.</summary>
public sealed record PendingReminder(string TaskName, DateTimeOffset? DueAt, string? CartId, string? UserId, string? ReminderId);

public sealed partial class CloudTasksQueue
{
    // A page of this consumer's reminders is ~1 KB a task in the FULL view; a page over this holds tasks someone else put
    // in the queue (Cloud Tasks allows 1 MB bodies), and the listing is made again without bodies rather than read whole.
    private const int MaxPageBytes = 4 << 20;

    // Pages followed at most, whatever next-page tokens a server keeps answering.
    private const int MaxPages = 100;

    /// <summary>
    /// The reminder tasks waiting in the queue, at most <paramref name="max"/>, following next-page tokens: read with the
    /// FULL view so each task's body names its cart, or without carts when a page is too large for that. Needs
    /// <c>cloudtasks.tasks.fullView</c> on a real queue.
    /// </summary>
    public async Task<IReadOnlyList<PendingReminder>> ListPendingAsync(int max, CancellationToken cancellationToken = default)
    {
        max = Math.Clamp(max, 1, 1000);
        var reminders = await ListAsync("FULL", max, cancellationToken).ConfigureAwait(false)
            ?? await ListAsync("BASIC", max, cancellationToken).ConfigureAwait(false)
            ?? throw new CloudTasksException($"the tasks of queue {_options.QueuePath} are too large to list (a page over {MaxPageBytes} bytes)", null, null);
        return reminders.OrderBy(reminder => reminder.DueAt).ToList();
    }

    /// <summary>Up to <paramref name="max"/> tasks in <paramref name="view"/>, a page at a time (bodies are dropped as each is read); null when a page is too large.</summary>
    private async Task<List<PendingReminder>?> ListAsync(string view, int max, CancellationToken cancellationToken)
    {
        var reminders = new List<PendingReminder>();
        var token = "";
        for (var pages = 0; pages < MaxPages; pages++)
        {
            if (await ListPageAsync(view, max - reminders.Count, token, cancellationToken).ConfigureAwait(false) is not { } page)
            {
                return null;
            }

            reminders.AddRange(page.Tasks.Take(max - reminders.Count).Select(Describe));
            token = page.NextPageToken;
            if (token.Length == 0 || reminders.Count >= max)
            {
                break;
            }
        }

        return reminders;
    }

    /// <summary>One page of tasks in <paramref name="view"/>, or null when the answer runs past <see cref="MaxPageBytes"/>.</summary>
    private async Task<ListTasksResponse?> ListPageAsync(string view, int pageSize, string pageToken, CancellationToken cancellationToken)
    {
        var query = $"responseView={view}&pageSize={pageSize}" + (pageToken.Length > 0 ? $"&pageToken={Uri.EscapeDataString(pageToken)}" : "");
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiUri($"{_options.QueuePath}/tasks?{query}"));
        await AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);
        using var response = await httpClientFactory.CreateClient(HttpClientName)
            .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new CloudTasksException(
                $"Cloud Tasks refused to list tasks on queue {_options.QueuePath}: HTTP {(int)response.StatusCode}", response.StatusCode, null);
        }

        if (response.Content.Headers.ContentLength > MaxPageBytes)
        {
            return null;
        }

        using var body = new MemoryStream();
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[81_920];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (body.Length + read > MaxPageBytes)
            {
                return null;
            }

            body.Write(buffer, 0, read);
        }

        body.Position = 0;
        using var reader = new StreamReader(body);
        return Parser.Parse<ListTasksResponse>(reader);
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
