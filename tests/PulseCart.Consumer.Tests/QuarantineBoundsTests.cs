using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Tests;

/// <summary>What an operator's quarantine actions may hold and what the audit keeps, whatever they are sent.</summary>
public sealed class QuarantineBoundsTests
{
    [Fact]
    public async Task OneBulkJobRunsAtATimeAndAFilterLongerThanAnyValueIsRefused()
    {
        var sink = new SwitchedSink();
        var (consumer, client, _, order) = await WithQuarantinedOrderAsync(sink);
        await using var stopped = consumer;

        // The replay reaches the messaging service, which holds it: the job runs until it answers.
        sink.Hold();
        using var first = await client.PostAsJsonAsync("/ops/quarantine/replay", new { order_id = order });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        using var second = await client.PostAsJsonAsync("/ops/quarantine/discard", new { source = "push" });
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Contains("still running", await second.Content.ReadAsStringAsync());
        using var overlong = await client.PostAsJsonAsync("/ops/quarantine/discard", new { source = new string('x', 100_000) });
        Assert.Equal(HttpStatusCode.BadRequest, overlong.StatusCode);

        sink.Release();
        for (var poll = 0; poll < 100 && (await client.GetJsonAsync(first.Headers.Location!.ToString())).GetProperty("state").GetString() == "running"; poll++)
        {
            await Task.Delay(100);
        }

        var job = await client.BulkAsync("replay", new { order_id = order });
        Assert.Equal(1, job.GetProperty("counts").GetProperty("already_replayed").GetInt32());
        Assert.Equal(1, sink.Sent);
        Assert.DoesNotContain(await client.AuditAsync(), entry => entry.GetProperty("target").GetString()!.Contains("xxxx"));
    }

    [Fact]
    public async Task AReplayWhoseMarkCannotBeStoredIsAuditedAsFailedPartWay()
    {
        var sink = new SwitchedSink();
        var (consumer, client, quarantine, order) = await WithQuarantinedOrderAsync(sink);
        await using var stopped = consumer;
        var id = (await client.EntriesAsync($"order_id={order}")).Single().GetProperty("id").GetString()!;

        // The replay's claim is kept and the confirmation goes out; Redis fails before the entry is marked replayed.
        sink.Release();
        quarantine.FailUpdatesAfter(1);
        using var replayed = await client.PostAsync($"/ops/quarantine/{id}/replay", null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, replayed.StatusCode);
        Assert.Contains("RedisConnectionException", await replayed.Content.ReadAsStringAsync());
        Assert.Equal(1, sink.Sent);
        var audited = Assert.Single(await client.AuditAsync(), entry => entry.GetProperty("action").GetString() == "replay");
        Assert.StartsWith("failed part-way", audited.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task AReplayWhoseBodyCannotBeReadLetsGoOfTheEntrySoTheNextReplayNeedNotWait()
    {
        var sink = new SwitchedSink();
        var (consumer, client, quarantine, order) = await WithQuarantinedOrderAsync(sink);
        await using var stopped = consumer;
        var id = (await client.EntriesAsync($"order_id={order}")).Single().GetProperty("id").GetString()!;

        // Redis fails between the claim and the read of the body: nothing has gone out.
        sink.Release();
        quarantine.GetsFail = true;
        using var failed = await client.PostAsync($"/ops/quarantine/{id}/replay", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal(0, sink.Sent);

        quarantine.GetsFail = false;
        using var replayed = await client.PostAsync($"/ops/quarantine/{id}/replay", null);

        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal(1, sink.Sent);
    }

    [Fact]
    public async Task AnEditWhoseBodyCannotBeReadIsABadRequestNotAnOutage()
    {
        var (consumer, client, _, order) = await WithQuarantinedOrderAsync(new SwitchedSink());
        await using var stopped = consumer;
        var id = (await client.EntriesAsync($"order_id={order}")).Single().GetProperty("id").GetString()!;

        // A chunked body whose first chunk size is not hex: Kestrel fails the read, and a retry would fail the same way.
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, consumer.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /ops/quarantine/{id}/edit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));
        var answer = new byte[4096];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var read = await stream.ReadAsync(answer, wait.Token);

        Assert.StartsWith("HTTP/1.1 400", Encoding.ASCII.GetString(answer, 0, read), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReplayGivenUpOnWhileItsGrainStillSendsKeepsTheEntryHeldSoNoDiscardRacesTheSend()
    {
        var sink = new SwitchedSink();
        var (consumer, client, _, order) = await WithQuarantinedOrderAsync(
            sink, services => services.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = TimeSpan.FromSeconds(2)));
        await using var stopped = consumer;
        var id = (await client.EntriesAsync($"order_id={order}")).Single().GetProperty("id").GetString()!;

        // The messaging service holds the confirmation past the grain call's timeout: the replay gives up, the grain
        // goes on and may still send.
        sink.Hold();
        try
        {
            using var replayed = await client.PostAsync($"/ops/quarantine/{id}/replay", null);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, replayed.StatusCode);
            Assert.Contains("stays held until", await replayed.Content.ReadAsStringAsync());

            using var discarded = await client.ActAsync(id, "discard");
            Assert.Equal(HttpStatusCode.Conflict, discarded.StatusCode);
        }
        finally
        {
            // Whatever was asserted, the held grain is let go, so the silo can stop.
            sink.Release();
        }

        // The send goes out after all; the entry was never discarded.
        for (var poll = 0; poll < 100 && sink.Sent == 0; poll++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(1, sink.Sent);
        Assert.Equal("open", (await client.EntriesAsync($"order_id={order}")).Single().GetProperty("state").GetString());
    }

    [Fact]
    public async Task ABulkJobCountsEachEntryOnceThoughTheScanMetItTwice()
    {
        var sink = new SwitchedSink();
        var (consumer, client, quarantine, order) = await WithQuarantinedOrderAsync(sink);
        await using var stopped = consumer;

        sink.Release();
        quarantine.ScansTwice = true;
        var job = await client.BulkAsync("replay", new { order_id = order });

        Assert.Equal(1, job.GetProperty("total").GetInt32());
        Assert.Equal(1, job.GetProperty("counts").GetProperty("processed").GetInt32());
        Assert.Equal(0, job.GetProperty("counts").GetProperty("already_replayed").GetInt32());
        Assert.Equal(1, sink.Sent);
    }

    /// <summary>A consumer whose quarantine can misbehave, holding one order whose confirmation the messaging service refused.</summary>
    private static async Task<(ConsumerFactory Consumer, HttpClient Client, FlakyQuarantine Quarantine, string Order)> WithQuarantinedOrderAsync(
        SwitchedSink sink, Action<IServiceCollection>? services = null)
    {
        var consumer = new ConsumerFactory(services: collection =>
        {
            collection
                .AddSingleton<IMessageSender>(sink)
                .AddSingleton<FlakyQuarantine>()
                .AddSingleton<Quarantine.IQuarantine>(provider => provider.GetRequiredService<FlakyQuarantine>());
            services?.Invoke(collection);
        });
        var client = consumer.CreateClient();
        var order = Push.NewId("o");
        Assert.Equal("quarantined", (await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1"))).Outcome());
        return (consumer, client, consumer.Services.GetRequiredService<FlakyQuarantine>(), order);
    }

    /// <summary>A messaging service that refuses every message until held or released, then holds or takes them.</summary>
    private sealed class SwitchedSink : IMessageSender
    {
        private TaskCompletionSource? _held;
        private bool _open;
        private int _sent;

        public string Sink => "switched";

        public int Sent => Volatile.Read(ref _sent);

        public void Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release()
        {
            _open = true;
            _held?.TrySetResult();
        }

        public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default)
        {
            if (!_open && _held is null)
            {
                throw new InvalidOperationException("template order_confirmation has no text");
            }

            if (_held is { } held)
            {
                await held.Task;
            }

            Interlocked.Increment(ref _sent);
        }
    }
}
