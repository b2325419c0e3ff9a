using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PulseCart.Consumer.Emulators;
using PulseCart.Emulators.CloudTasks;
using PulseCart.Emulators.PubSub;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The consumer with its embedded twins on a fake clock, so hours of Pub/Sub retry intervals and a reminder's delay
/// pass in a call. The subscription's push audience is not the default, to show it comes back exactly.
/// </summary>
public sealed class PauseFixture : IAsyncLifetime
{
    public const string Audience = "https://pulsecart.example.com/push-audience";

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public ConsumerFactory Consumer { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public PubSubEmulator PubSub => Consumer.Services.GetRequiredService<PubSubEmulator>();

    public CloudTasksEmulator Tasks => Consumer.Services.GetRequiredService<CloudTasksEmulator>();

    public Task InitializeAsync()
    {
        Consumer = new ConsumerFactory(
            new Dictionary<string, string?> { ["PulseCart:Emulators:PubSub:Subscriptions:0:OidcToken:Audience"] = Audience },
            services: services => services.AddSingleton<TimeProvider>(Clock));
        Client = Consumer.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Consumer.DisposeAsync();

    /// <summary>Moves the fake clock, then waits (in real time) until neither twin has anything left to do at that time.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await Tasks.WhenIdleAsync(timeout.Token);
        await PubSub.WhenIdleAsync(timeout.Token);
    }
}

public sealed class PauseTests(PauseFixture fixture) : IClassFixture<PauseFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task PauseHoldsPushesAndRemindersWithoutDeadLetteringAndResumeDeliversWhatWaited()
    {
        var (cart, user, reminderId) = await AbandonedCartAsync("pause");

        using var paused = await Client.PostAsync("/ops/pause", null);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        var pause = await paused.JsonAsync();
        Assert.True(pause.GetProperty("paused").GetBoolean());
        Assert.Equal("detached", pause.GetProperty("pushes").GetProperty("state").GetString());
        Assert.Equal("paused", pause.GetProperty("reminders").GetProperty("state").GetString());
        Assert.False((await Client.SubscriptionAsync()).GetProperty("pushConfig").TryGetProperty("pushEndpoint", out _));
        Assert.Equal("PAUSED", await Client.QueueStateAsync());

        // Past the reminder's due time and many times Pub/Sub's retry intervals (10 s to 10 min): nothing is attempted.
        var order = Push.NewId("o-pause");
        var messageId = await Client.PublishAsync(Push.OrderPlaced(Push.NewId("e"), order, user, at: fixture.Clock.GetUtcNow()));
        for (var step = 0; step < 18; step++)
        {
            await fixture.AdvanceAsync(TimeSpan.FromMinutes(10));
        }

        Assert.DoesNotContain(fixture.PubSub.Attempts, attempt => attempt.MessageId == messageId);
        Assert.Empty(fixture.PubSub.MessagesOf(EmbeddedPubSub.DeadLetterTopic));
        Assert.DoesNotContain(fixture.Tasks.Attempts, attempt => attempt.TaskName.EndsWith("/" + reminderId, StringComparison.Ordinal));
        Assert.Empty(fixture.Consumer.SentWithKey($"order_confirmation:{order}"));
        Assert.Empty(fixture.Consumer.SentWithKey($"cart_abandonment_reminder:{reminderId}"));
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health/ready")).StatusCode);
        var observed = (await Client.GetJsonAsync("/ops/pause")).GetProperty("observed");
        Assert.False(observed.GetProperty("pushing").GetBoolean());
        Assert.Equal("PAUSED", observed.GetProperty("queue_state").GetString());

        using var resumed = await Client.PostAsync("/ops/resume", null);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.False((await resumed.JsonAsync()).GetProperty("paused").GetBoolean());
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => fixture.Consumer.SentWithKey($"order_confirmation:{order}").Count == 1);

        // The reminder came due during the pause: it waits PulseCart:Reminders:OverdueWait (2 minutes) for news of its
        // cart still in the backlog, then goes.
        Assert.Empty(fixture.Consumer.SentWithKey($"cart_abandonment_reminder:{reminderId}"));
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(2));
        await WaitUntilAsync(() => fixture.Consumer.SentWithKey($"cart_abandonment_reminder:{reminderId}").Count == 1);

        var push = Assert.Single(fixture.PubSub.Attempts, attempt => attempt.MessageId == messageId);
        Assert.Equal((PushAttemptOutcome.Acknowledged, 1), (push.Outcome, push.DeliveryAttempt));
        Assert.Empty(fixture.PubSub.MessagesOf(EmbeddedPubSub.DeadLetterTopic));
        Assert.Equal("sent", (await Client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder").GetProperty("status").GetString());
        Assert.Equal("RUNNING", await Client.QueueStateAsync());

        var audit = await Client.AuditAsync();
        Assert.Contains(audit, entry => entry.GetProperty("action").GetString() == "pause" && entry.GetProperty("operator").GetString() == "token"
            && entry.GetProperty("outcome").GetString()!.StartsWith("paused: pushes detached; reminders paused", StringComparison.Ordinal));
        Assert.Contains(audit, entry => entry.GetProperty("action").GetString() == "resume" && entry.GetProperty("outcome").GetString()!.StartsWith("resumed", StringComparison.Ordinal));
        Assert.Contains(fixture.Consumer.Logs.Lines, line => line.StartsWith("Information PulseCart.Consumer.Pause.PauseSwitch: Deliveries paused since", StringComparison.Ordinal));
        Assert.Contains(fixture.Consumer.Logs.Lines, line => line.StartsWith("Information PulseCart.Consumer.Pause.PauseSwitch: Deliveries resumed by token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APurchaseThatWaitedThroughThePauseCancelsTheReminderThatCameDueMeanwhile()
    {
        var (cart, user, reminderId) = await AbandonedCartAsync("bought");
        await PostOkAsync("/ops/pause");

        // The shopper buys during the pause; the reminder comes due while the purchase waits in the subscription.
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(30));
        var order = Push.NewId("o-bought");
        await Client.PublishAsync(Push.OrderPlaced(Push.NewId("e"), order, user, cart, at: fixture.Clock.GetUtcNow()));
        await fixture.AdvanceAsync(TimeSpan.FromHours(2));

        await PostOkAsync("/ops/resume");

        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => fixture.Consumer.SentWithKey($"order_confirmation:{order}").Count == 1);
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(5));

        Assert.Empty(fixture.Consumer.SentWithKey($"cart_abandonment_reminder:{reminderId}"));
        var reminder = (await Client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder");
        Assert.Equal("skipped", reminder.GetProperty("status").GetString());
    }

    [Fact]
    public async Task PausingTwiceKeepsThePushConfigAndResumeRestoresItExactly()
    {
        var before = (await Client.SubscriptionAsync()).GetProperty("pushConfig");
        Assert.Equal(PauseFixture.Audience, before.GetProperty("oidcToken").GetProperty("audience").GetString());

        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync("/ops/pause", null)).StatusCode);
        using var again = await Client.PostAsync("/ops/pause", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var second = await again.JsonAsync();
        var saved = JsonDocument.Parse(second.GetProperty("saved_push_config").GetString()!).RootElement;
        Assert.Equal(before.GetProperty("pushEndpoint").GetString(), saved.GetProperty("pushEndpoint").GetString());
        Assert.Equal(PauseFixture.Audience, saved.GetProperty("oidcToken").GetProperty("audience").GetString());

        using var resumed = await Client.PostAsync("/ops/resume", null);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Contains((await resumed.JsonAsync()).GetProperty("done").EnumerateArray(), line => line.GetString()!.StartsWith("restored the push config", StringComparison.Ordinal));
        Assert.Equal(before.GetRawText(), (await Client.SubscriptionAsync()).GetProperty("pushConfig").GetRawText());

        using var nothing = await Client.PostAsync("/ops/resume", null);
        Assert.Equal(HttpStatusCode.OK, nothing.StatusCode);
        Assert.Equal("not paused: nothing to resume, nothing changed", Assert.Single((await nothing.JsonAsync()).GetProperty("done").EnumerateArray()).GetString());
        Assert.Equal(before.GetRawText(), (await Client.SubscriptionAsync()).GetProperty("pushConfig").GetRawText());
    }

    [Fact]
    public async Task AnOverdueReminderWaitsOnceThoughIdleGrainsAreCollectedMeanwhile()
    {
        var (_, _, reminderId) = await AbandonedCartAsync("collected");
        await PostOkAsync("/ops/pause");

        await fixture.AdvanceAsync(TimeSpan.FromHours(3));
        await PostOkAsync("/ops/resume");

        // The first callback finds the reminder overdue and starts its wait for news still in a backlog.
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => fixture.Tasks.Attempts.Any(attempt => attempt.TaskName.EndsWith("/" + reminderId, StringComparison.Ordinal)));
        Assert.Empty(fixture.Consumer.SentWithKey($"cart_abandonment_reminder:{reminderId}"));

        // Orleans retires idle grains (after 3 minutes; the queue backs off up to 5). Had the waiting cart gone with
        // them, every later callback would have met a new activation and waited again, until the queue's last attempt.
        await fixture.Consumer.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(2));

        await WaitUntilAsync(() => fixture.Consumer.SentWithKey($"cart_abandonment_reminder:{reminderId}").Count == 1);
    }

    [Fact]
    public async Task PauseFromAnotherSiteIsRefused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ops/pause");
        request.Headers.Add("Origin", "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await Client.SendAsync(request)).StatusCode);
        Assert.False((await Client.GetJsonAsync("/ops/pause?live=false")).GetProperty("paused").GetBoolean());
    }

    /// <summary>An operator action that must succeed.</summary>
    private async Task PostOkAsync(string path)
    {
        using var response = await Client.PostAsync(path, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A cart abandoned now, with its reminder scheduled.</summary>
    private async Task<(string Cart, string User, string ReminderId)> AbandonedCartAsync(string name)
    {
        var (cart, user) = (Push.NewId($"c-{name}"), Push.NewId($"u-{name}"));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, user, fixture.Clock.GetUtcNow()))).StatusCode);
        var reminderId = (await Client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder").GetProperty("reminder_id").GetString()!;
        return (cart, user, reminderId);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var attempt = 0; attempt < 200 && !condition(); attempt++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}
