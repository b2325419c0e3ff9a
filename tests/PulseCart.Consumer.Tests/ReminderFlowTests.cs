using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PulseCart.Emulators.CloudTasks;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The signature flow end to end over real HTTP: push → cart grain → Cloud Tasks client → embedded emulator →
/// callback → cart re-check → webhook. The clock is fake, so two hours pass in a call.
/// </summary>
public sealed class ReminderFlowFixture : IAsyncLifetime
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public RecordingWebhook Webhook { get; private set; } = null!;

    public ConsumerFactory Consumer { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public CloudTasksEmulator Emulator => Consumer.Services.GetRequiredService<CloudTasksEmulator>();

    public async Task InitializeAsync()
    {
        Webhook = await RecordingWebhook.StartAsync();
        Consumer = new ConsumerFactory(
            new Dictionary<string, string?>
            {
                ["PulseCart:Messaging:Sink"] = "webhook",
                ["PulseCart:Messaging:WebhookUrl"] = Webhook.Url,
                ["PulseCart:Reminders:MaxAttempts"] = "3",
            },
            services: services => services.AddSingleton<TimeProvider>(Clock));
        Client = Consumer.CreateClient();
        await Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Consumer.DisposeAsync();
        await Webhook.DisposeAsync();
    }

    /// <summary>Moves the fake clock, then waits (in real time) until the emulator has nothing left to do at that time.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await Emulator.WhenIdleAsync(timeout.Token);
    }

    public IReadOnlyList<CloudTaskAttempt> AttemptsFor(string reminderId) =>
        Emulator.Attempts.Where(attempt => attempt.TaskName.EndsWith("/" + reminderId, StringComparison.Ordinal)).ToList();
}

public sealed class ReminderFlowTests(ReminderFlowFixture fixture) : IClassFixture<ReminderFlowFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task StillAbandonedCartGetsOneReminderTwoHoursLater()
    {
        var (cart, user) = NewCart("u");
        await AbandonAsync(cart, user);
        var reminderId = await ReminderIdAsync(cart);

        await fixture.AdvanceAsync(TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1));
        Assert.Empty(fixture.AttemptsFor(reminderId));

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));

        var sent = Assert.Single(fixture.Webhook.AcceptedFor(user));
        Assert.Equal("cart_abandonment_reminder", sent.GetProperty("template").GetString());
        Assert.Equal($"cart_abandonment_reminder:{reminderId}", sent.GetProperty("idempotency_key").GetString());
        Assert.Equal(cart, sent.GetProperty("cart_id").GetString());
        Assert.Equal("sent", (await ReminderAsync(cart)).GetProperty("status").GetString());
        Assert.Equal(CloudTaskAttemptOutcome.Succeeded, Assert.Single(fixture.AttemptsFor(reminderId)).Outcome);
    }

    [Fact]
    public async Task PurchaseDuringTheDelaySendsNoReminderAndDeletesTheTask()
    {
        var (cart, user) = NewCart("u");
        await AbandonAsync(cart, user);
        var reminder = await ReminderAsync(cart);
        var taskName = reminder.GetProperty("task_name").GetString()!;

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(30));
        await Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), user, cartId: cart, at: fixture.Clock.GetUtcNow()));

        var task = await Client.GetAsync($"/emulators/cloudtasks/v2/{taskName}");
        Assert.Equal(HttpStatusCode.NotFound, task.StatusCode);
        await fixture.AdvanceAsync(TimeSpan.FromHours(3));
        Assert.Empty(fixture.AttemptsFor(reminder.GetProperty("reminder_id").GetString()!));
        Assert.DoesNotContain(fixture.Webhook.AcceptedFor(user), m => m.GetProperty("template").GetString() == "cart_abandonment_reminder");
        Assert.Equal("skipped", (await ReminderAsync(cart)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task RedeliveredAbandonmentCreatesOneTaskAndOneReminder()
    {
        var (cart, user) = NewCart("u");
        var abandoned = Push.CartAbandoned(Push.NewId("e"), cart, user, fixture.Clock.GetUtcNow());

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Client.PushAsync(abandoned)));
        Assert.All(responses, response => Assert.Equal(HttpStatusCode.NoContent, response.StatusCode));

        var reminderId = await ReminderIdAsync(cart);
        await fixture.AdvanceAsync(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        Assert.Single(fixture.AttemptsFor(reminderId));
        Assert.Single(fixture.Webhook.AcceptedFor(user));
    }

    [Fact]
    public async Task CallbackFailingTwiceIsRetriedOnTheQueueBackoffAndSendsOnce()
    {
        var (cart, user) = NewCart("fail2");
        await AbandonAsync(cart, user);
        var reminderId = await ReminderIdAsync(cart);

        await fixture.AdvanceAsync(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(10));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(20));

        var attempts = fixture.AttemptsFor(reminderId);
        Assert.Equal([503, 503, 204], attempts.Select(attempt => attempt.StatusCode ?? 0));
        Assert.Equal(TimeSpan.FromSeconds(10), attempts[1].DispatchedAt - attempts[0].DispatchedAt);
        Assert.Equal(TimeSpan.FromSeconds(20), attempts[2].DispatchedAt - attempts[1].DispatchedAt);
        Assert.Single(fixture.Webhook.AcceptedFor(user));
    }

    [Fact]
    public async Task ReminderFailingItsLastAttemptIsDeadLetteredIntoTheQuarantine()
    {
        var (cart, user) = NewCart("failall");
        await AbandonAsync(cart, user);
        var reminderId = await ReminderIdAsync(cart);

        await fixture.AdvanceAsync(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(10));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(20));
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(10));

        var attempts = fixture.AttemptsFor(reminderId);
        Assert.Equal([503, 503, 204], attempts.Select(attempt => attempt.StatusCode ?? 0));
        Assert.Equal("dead_lettered", (await ReminderAsync(cart)).GetProperty("status").GetString());
        var quarantine = await Client.QuarantinedAsync();
        var entry = Assert.Single(quarantine, e => e.GetProperty("body_preview").GetString()!.Contains(reminderId));
        Assert.Equal("task", entry.GetProperty("source").GetString());
        Assert.Contains("dead-lettered", entry.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task AReminderDeadLetteredWhileTheSinkWasDownIsSentOnceWhenReplayed()
    {
        var (cart, user, id) = await DeadLetteredReminderAsync();

        // The messaging service is back; the operator replays the reminder.
        var replayed = await (await Client.ActAsync(id, "replay")).JsonAsync();
        Assert.Equal("sent", replayed.GetProperty("outcome").GetString());
        Assert.Single(fixture.Webhook.AcceptedFor(user));
        Assert.Equal("sent", (await ReminderAsync(cart)).GetProperty("status").GetString());

        var again = await (await Client.ActAsync(id, "replay")).JsonAsync();
        Assert.True(again.GetProperty("already_replayed").GetBoolean());
        Assert.Single(fixture.Webhook.AcceptedFor(user));
    }

    [Fact]
    public async Task AReplayedDeadLetteredReminderOfACartBoughtSinceSendsNothing()
    {
        var (cart, user, id) = await DeadLetteredReminderAsync();
        var order = Push.NewId("o");
        Assert.Equal("processed", (await Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, user, cart, fixture.Clock.GetUtcNow()))).Outcome());

        var replayed = await (await Client.ActAsync(id, "replay")).JsonAsync();

        Assert.Equal("skipped", replayed.GetProperty("outcome").GetString());
        Assert.DoesNotContain(fixture.Webhook.AcceptedFor(user), m => m.GetProperty("idempotency_key").GetString()!.StartsWith("cart_abandonment_reminder:"));
        var reminder = await ReminderAsync(cart);
        Assert.Equal("skipped", reminder.GetProperty("status").GetString());
        Assert.Equal("cart purchased", reminder.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task ACallbackBeforeTheReminderIsDueSendsNothingAndAsksToBeCalledAgainWhenItIs()
    {
        var (cart, user) = NewCart("u-early");
        await AbandonAsync(cart, user);
        var reminderId = await ReminderIdAsync(cart);

        var early = await Client.PostAsync("/tasks/cart-reminder", new StringContent($$"""{"reminder_id":"{{reminderId}}","cart_id":"{{cart}}"}"""));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
        Assert.InRange(early.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromMinutes(119), TimeSpan.FromMinutes(121));
        Assert.Empty(fixture.Webhook.AcceptedFor(user));
        Assert.Equal("scheduled", (await ReminderAsync(cart)).GetProperty("status").GetString());

        await fixture.AdvanceAsync(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));

        Assert.Single(fixture.Webhook.AcceptedFor(user));
        Assert.Equal("sent", (await ReminderAsync(cart)).GetProperty("status").GetString());
    }

    /// <summary>
    /// A cart whose reminder was dead-lettered: the messaging service refused its shopper's first three messages, every
    /// attempt the queue made. Returns the reminder's quarantine entry.
    /// </summary>
    private async Task<(string Cart, string User, string EntryId)> DeadLetteredReminderAsync()
    {
        var (cart, user) = NewCart("fail3");
        await AbandonAsync(cart, user);
        var reminderId = await ReminderIdAsync(cart);
        await fixture.AdvanceAsync(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(10));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("dead_lettered", (await ReminderAsync(cart)).GetProperty("status").GetString());
        var entry = (await Client.QuarantinedAsync()).Single(e => e.GetProperty("body_preview").GetString()!.Contains(reminderId));
        return (cart, user, entry.GetProperty("id").GetString()!);
    }

    private static (string Cart, string User) NewCart(string userPrefix)
    {
        var id = Guid.NewGuid().ToString("N");
        return ("c-" + id, $"{userPrefix}-{id}");
    }

    private async Task AbandonAsync(string cart, string user)
    {
        var response = await Client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, user, fixture.Clock.GetUtcNow()));
        Assert.Equal("processed", response.Outcome());
    }

    private async Task<System.Text.Json.JsonElement> ReminderAsync(string cart) =>
        (await Client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder");

    private async Task<string> ReminderIdAsync(string cart) => (await ReminderAsync(cart)).GetProperty("reminder_id").GetString()!;
}
