using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PulseCart.Consumer.Quarantine;
using PulseCart.Emulators.CloudTasks;
using PulseCart.Grains.Messaging;
using StackExchange.Redis;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// A reminder through an outage that outlasts some of the queue's attempts: of Redis, which the carts and the quarantine
/// share, or of the messaging service. Either way it goes out once, when the outage ends.
/// </summary>
public sealed class ReminderOutageTests
{
    [Fact]
    public async Task AReminderWhoseLastAttemptMeetsRedisDownIsSentOnceRedisIsBack()
    {
        // Redis down through every attempt: the cart cannot answer and the quarantine cannot keep the last one, so the
        // reminder carries on in a task of its own.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var redis = new RedisOutage();
        await using var consumer = FlakyQuarantineConsumer(clock, 2, services => services.AddSingleton<IIncomingGrainCallFilter>(redis));
        var (client, cart, advance) = await AbandonedCartAsync(consumer, clock);
        var reminderId = await ReminderIdAsync(client, cart);

        // Both of the queue's attempts meet Redis down; the second is the last.
        var quarantine = consumer.Services.GetRequiredService<FlakyQuarantine>();
        (redis.Down, quarantine.AddsFail) = (true, true);
        await RunOutTheQueuesAttemptsAsync(consumer, advance, reminderId);

        // The task that carries it on runs at once and keeps meeting the outage, with the queue's own backoff.
        Assert.Contains(consumer.Services.GetRequiredService<CloudTasksEmulator>().Attempts,
            attempt => attempt.TaskName.EndsWith($"/{reminderId}-again-1", StringComparison.Ordinal) && attempt.StatusCode == 503);
        Assert.Empty(consumer.SentWithKey(MessageTemplates.CartAbandonmentReminderKey(reminderId)));

        (redis.Down, quarantine.AddsFail) = (false, false);
        await advance(TimeSpan.FromSeconds(10));

        Assert.Single(consumer.SentWithKey(MessageTemplates.CartAbandonmentReminderKey(reminderId)));
        Assert.Equal("sent", (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder").GetProperty("status").GetString());
        Assert.Empty(await client.QuarantinedAsync());
    }

    [Fact]
    public async Task ATaskCarryingOnAReminderStillWaitsForAPurchaseStillOnItsWayWhenItComesOverdue()
    {
        // Redis down long past the reminder's due time: when it is back, Pub/Sub's backlog (a purchase among it) comes in
        // no order, so the carried-on reminder waits for news like any overdue callback instead of going out at once.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var redis = new RedisOutage();
        await using var consumer = FlakyQuarantineConsumer(clock, 4, services => services.AddSingleton<IIncomingGrainCallFilter>(redis));
        var (client, cart, advance) = await AbandonedCartAsync(consumer, clock);
        var reminderId = await ReminderIdAsync(client, cart);
        var quarantine = consumer.Services.GetRequiredService<FlakyQuarantine>();
        var emulator = consumer.Services.GetRequiredService<CloudTasksEmulator>();
        var carriedOn = $"/{reminderId}-again-1";
        int CallsCarryingOn() => emulator.Attempts.Count(attempt => attempt.TaskName.EndsWith(carriedOn, StringComparison.Ordinal));

        // The reminder's own task uses up its four calls; the task carrying it on makes its first two during the outage.
        (redis.Down, quarantine.AddsFail) = (true, true);
        await advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        for (var step = 0; step < 60 && CallsCarryingOn() == 0; step++)
        {
            await advance(TimeSpan.FromSeconds(10));
        }

        await advance(TimeSpan.FromMinutes(3));
        Assert.Equal(2, CallsCarryingOn());

        // Redis is back; its third call (not its last) comes overdue and waits.
        (redis.Down, quarantine.AddsFail) = (false, false);
        for (var step = 0; step < 60 && CallsCarryingOn() == 2; step++)
        {
            await advance(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(503, emulator.Attempts.Last(attempt => attempt.TaskName.EndsWith(carriedOn, StringComparison.Ordinal)).StatusCode);
        Assert.Empty(consumer.SentWithKey(MessageTemplates.CartAbandonmentReminderKey(reminderId)));

        Assert.Equal("processed", (await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), "u-1", cart, clock.GetUtcNow()))).Outcome());
        for (var step = 0; step < 10; step++)
        {
            await advance(TimeSpan.FromMinutes(1));
        }

        Assert.Empty(consumer.SentWithKey(MessageTemplates.CartAbandonmentReminderKey(reminderId)));
        Assert.Equal("skipped", (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder").GetProperty("status").GetString());
    }

    [Fact]
    public async Task AReminderTheSinkRefusesOnItsLastAttemptIsCarriedOnWhenTheQuarantineCannotKeepIt()
    {
        // The cart records the dead letter, then the quarantine (Redis flapping) cannot keep it: the queue will not
        // call again, so a task of its own carries the reminder on, and it goes out once the messaging service is back.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var sink = new SinkDown();
        await using var consumer = FlakyQuarantineConsumer(clock, 2, services => services.AddSingleton<IMessageSender>(sink));
        var (client, cart, advance) = await AbandonedCartAsync(consumer, clock);
        var reminderId = await ReminderIdAsync(client, cart);

        consumer.Services.GetRequiredService<FlakyQuarantine>().AddsFail = true;
        await RunOutTheQueuesAttemptsAsync(consumer, advance, reminderId);
        Assert.Contains(consumer.Services.GetRequiredService<CloudTasksEmulator>().Attempts,
            attempt => attempt.TaskName.EndsWith($"/{reminderId}-again-1", StringComparison.Ordinal));
        Assert.Equal(0, sink.Sent);

        (sink.Down, consumer.Services.GetRequiredService<FlakyQuarantine>().AddsFail) = (false, false);
        await advance(TimeSpan.FromSeconds(10));

        Assert.Equal(1, sink.Sent);
        Assert.Equal("sent", (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder").GetProperty("status").GetString());
        Assert.Empty(await client.QuarantinedAsync());
    }

    [Fact]
    public async Task AReminderRetriedWhileTheSinkIsDownWaitsForNewsOnlyOnce()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var sink = new SinkDown();
        await using var consumer = new ConsumerFactory(
            services: services => services.AddSingleton<TimeProvider>(clock).AddSingleton<IMessageSender>(sink));
        var (client, cart, advance) = await AbandonedCartAsync(consumer, clock);

        // The queue's backoff (10, 20, 40, 80, 160, 240, 300 s): the callbacks at 1, 11 and 31 s past due try to send;
        // the one at 71 s is past due by more than a minute and waits for news until 191 s; 311 and 551 s send again.
        await advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        foreach (var step in new[] { 10, 20, 40, 80, 160, 240 })
        {
            await advance(TimeSpan.FromSeconds(step));
        }

        Assert.Equal(5, sink.Calls);

        // Idle carts are collected between two callbacks (every 3 minutes; the backoff is now 5): the cart that waited
        // must still be there, or the next callback would wait again instead of sending.
        await advance(TimeSpan.FromSeconds(200));
        await consumer.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await advance(TimeSpan.FromSeconds(100));

        Assert.Equal(6, sink.Calls);
    }

    /// <summary>A consumer on <paramref name="clock"/> whose queue calls a reminder <paramref name="attempts"/> times, with a quarantine that can fail.</summary>
    private static ConsumerFactory FlakyQuarantineConsumer(FakeTimeProvider clock, int attempts, Action<IServiceCollection> outage) => new(
        new Dictionary<string, string?> { ["PulseCart:Reminders:MaxAttempts"] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        services: services =>
        {
            services
                .AddSingleton<TimeProvider>(clock)
                .AddSingleton<FlakyQuarantine>()
                .AddSingleton<IQuarantine>(provider => provider.GetRequiredService<FlakyQuarantine>());
            outage(services);
        });

    private static async Task<string> ReminderIdAsync(HttpClient client, string cart) =>
        (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder").GetProperty("reminder_id").GetString()!;

    /// <summary>Both of the queue's calls of the reminder's own task: the first answered 503, the last 204, whatever came of it.</summary>
    private static async Task RunOutTheQueuesAttemptsAsync(ConsumerFactory consumer, Func<TimeSpan, Task> advance, string reminderId)
    {
        await advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        await advance(TimeSpan.FromSeconds(10));
        var own = consumer.Services.GetRequiredService<CloudTasksEmulator>().Attempts
            .Where(attempt => attempt.TaskName.EndsWith("/" + reminderId, StringComparison.Ordinal));
        Assert.Equal([503, 204], own.Select(attempt => attempt.StatusCode ?? 0));
    }

    /// <summary>
    /// A cart abandoned now on the consumer's fake clock, and how to move that clock: each move waits until the queue's
    /// callbacks due by then are answered.
    /// </summary>
    private static async Task<(HttpClient Client, string Cart, Func<TimeSpan, Task> Advance)> AbandonedCartAsync(ConsumerFactory consumer, FakeTimeProvider clock)
    {
        var client = consumer.CreateClient();
        var emulator = consumer.Services.GetRequiredService<CloudTasksEmulator>();
        var (cart, user) = (Push.NewId("c"), Push.NewId("u"));
        Assert.Equal("processed", (await client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, user, clock.GetUtcNow()))).Outcome());
        return (client, cart, async by =>
        {
            clock.Advance(by);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await emulator.WhenIdleAsync(timeout.Token);
        });
    }

    /// <summary>A messaging service that is down until told otherwise: every send fails as one a retry could get through.</summary>
    private sealed class SinkDown : IMessageSender
    {
        private int _calls;
        private int _sent;

        public volatile bool Down = true;

        public string Sink => "down";

        public int Calls => Volatile.Read(ref _calls);

        public int Sent => Volatile.Read(ref _sent);

        public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            if (Down)
            {
                return Task.FromException(new MessageSendException("webhook answered 503"));
            }

            Interlocked.Increment(ref _sent);
            return Task.CompletedTask;
        }
    }

    /// <summary>While down, every cart call fails as one whose state read or write met Redis down.</summary>
    private sealed class RedisOutage : IIncomingGrainCallFilter
    {
        public volatile bool Down;

        public Task Invoke(IIncomingGrainCallContext context) =>
            Down && context.InterfaceName.Contains("CartGrain", StringComparison.Ordinal)
                ? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "redis is down")
                : context.Invoke();
    }
}
