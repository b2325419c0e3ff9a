using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The quarantine in Redis, shared by every silo: a group quarantined by one consumer is replayed in bulk by others,
/// each outcome counted, nothing sent twice however often or wherever the replay runs.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisQuarantineActionTests(RedisFixture redis)
{
    [Fact]
    public async Task BulkReplayOfAGroupCountsEachOutcomeAndRepeatingItAnywhereSendsNothingTwice()
    {
        // A signature attribute of this test's own (letters only, so the cause is this test's alone).
        var attribute = "sig" + string.Concat(Guid.NewGuid().ToString("N").Select(c => (char)('a' + (c % 26))));
        var settings = new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString };
        var (fresh, again, late, broken) = (Push.NewId("o-fresh"), Push.NewId("o-again"), Push.NewId("c-late"), Push.NewId("o-broken"));
        var againEvent = Push.OrderPlaced(Push.NewId("e"), again, "u-1");

        // While the consumer required signatures, four unsigned messages were quarantined for that one cause.
        await using (var strict = new ConsumerFactory(new Dictionary<string, string?>(settings)
        {
            ["PulseCart:Push:SignatureSecret"] = "s3cret",
            ["PulseCart:Push:SignatureAttribute"] = attribute,
        }))
        {
            var client = strict.CreateClient();
            foreach (var @event in new[]
            {
                Push.OrderPlaced(Push.NewId("e"), fresh, "u-1"),
                againEvent,
                Push.CartAbandoned(Push.NewId("e"), late, "u-1", Push.T0),
                Push.OrderPlaced(Push.NewId("e"), broken, "u-1").With(e => e.Remove("user_id")),
            })
            {
                Assert.Equal("quarantined", (await client.PushAsync(@event)).Outcome());
            }
        }

        // Two silos without the signature requirement, sharing Redis. Meanwhile one order arrived again (and was
        // processed), and the abandoned cart was bought.
        await using var first = new ConsumerFactory(settings);
        await using var second = new ConsumerFactory(settings);
        var (one, two) = (first.CreateClient(), second.CreateClient());
        Assert.Equal("processed", (await one.PushAsync(againEvent)).Outcome());
        Assert.Equal("processed", (await one.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o-late"), "u-1", late, Push.T0.AddMinutes(1)))).Outcome());

        var group = Assert.Single(await two.GroupsAsync("source=push"), g => g.GetProperty("cause").GetString()!.Contains(attribute));
        Assert.Equal($"message signature missing (attribute {attribute})", group.GetProperty("cause").GetString());
        Assert.Equal(4, group.GetProperty("open").GetInt32());
        var selection = new { group = group.GetProperty("group").GetString() };

        var job = await two.BulkAsync("replay", selection);
        Assert.Equal(4, job.GetProperty("total").GetInt32());
        Assert.Equal((1, 1, 1, 1, 0), (job.Count("processed"), job.Count("duplicate"), job.Count("stale"), job.Count("still_unusable"), job.Count("failed")));
        Assert.Equal("token", job.GetProperty("operator").GetString());

        // The other silo sees the same marks, and replaying the group again from both at once sends nothing new. (The
        // unusable entry is replayed by each job in turn, or counted as being replayed by the other's.)
        var marked = await one.EntriesAsync($"group={selection.group}");
        Assert.Equal(3, marked.Count(e => e.GetProperty("state").GetString() == "replayed"));
        var repeats = await Task.WhenAll(one.BulkAsync("replay", selection), two.BulkAsync("replay", selection));
        Assert.All(repeats, repeat =>
        {
            Assert.Equal(3, repeat.Count("already_replayed"));
            Assert.Equal(1, repeat.Count("still_unusable") + repeat.Count("replaying"));
            Assert.Equal(0, repeat.Count("processed") + repeat.Count("duplicate"));
        });
        Assert.Contains(repeats, repeat => repeat.Count("still_unusable") == 1);
        Assert.Single(first.SentWithKey($"order_confirmation:{fresh}").Concat(second.SentWithKey($"order_confirmation:{fresh}")));
        Assert.Single(first.SentWithKey($"order_confirmation:{again}").Concat(second.SentWithKey($"order_confirmation:{again}")));
        Assert.Empty(first.SentWithKey($"order_confirmation:{broken}").Concat(second.SentWithKey($"order_confirmation:{broken}")));

        // Discarding what is left, on one silo, shows on the other; the audit list is shared too.
        var rest = await one.BulkAsync("discard", selection);
        Assert.Equal((1, 3), (rest.Count("discarded"), rest.Count("already_replayed")));
        var brokenEntry = Assert.Single(await two.EntriesAsync($"order_id={broken}"));
        Assert.Equal("discarded", brokenEntry.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await two.ActAsync(brokenEntry.GetProperty("id").GetString()!, "replay")).StatusCode);
        var audit = await one.AuditAsync();
        Assert.Equal(4, audit.Count(e => e.GetProperty("target").GetString()!.Contains(selection.group!)));
    }

    [Fact]
    public async Task WhileAReplayRunsNoSiloDiscardsEditsOrReplaysTheEntryAndItIsSentOnce()
    {
        // Both silos send through one sink that holds every message until released: the replay stays in flight
        // wherever its grain is.
        var sender = new HeldSender();
        var settings = new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString };
        await using var first = new ConsumerFactory(settings, services: services => services.AddSingleton<IMessageSender>(sender));
        await using var second = new ConsumerFactory(settings, services: services => services.AddSingleton<IMessageSender>(sender));
        var (one, two) = (first.CreateClient(), second.CreateClient());
        var (order, eventId) = (Push.NewId("o-held"), Push.NewId("e"));
        Assert.Equal("quarantined", (await one.PushAsync(Push.OrderPlaced(eventId, order, "u-1").With(e => e.Remove("user_id")))).Outcome());
        var id = (await two.EntriesAsync($"order_id={order}")).Single().GetProperty("id").GetString()!;

        var fixedBody = Push.Envelope(Push.OrderPlaced(eventId, order, "u-fixed"));
        var editing = one.EditAsync(id, fixedBody);
        var listed = await EventuallyAsync(async () => (await two.EntriesAsync($"order_id={order}")).Single(), entry => entry.TryGetProperty("replaying_since", out _));
        Assert.Equal("open", listed.GetProperty("state").GetString());
        Assert.Equal("token", listed.GetProperty("replaying_by").GetString());

        // The other silo's operator is refused each action, told why; a bulk discard counts the entry as being replayed.
        using var discard = await two.ActAsync(id, "discard");
        Assert.Equal(HttpStatusCode.Conflict, discard.StatusCode);
        Assert.Contains("still running", (await discard.JsonAsync()).GetProperty("reason").GetString());
        using var edit = await two.EditAsync(id, Push.Envelope(Push.OrderPlaced(eventId, order, "u-other")));
        Assert.Equal(HttpStatusCode.Conflict, edit.StatusCode);
        using var replay = await two.ActAsync(id, "replay");
        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        var bulk = await two.BulkAsync("discard", new { order_id = order });
        Assert.Equal((1, 0), (bulk.Count("replaying"), bulk.Count("discarded")));
        Assert.Equal(fixedBody, await two.GetStringAsync($"/ops/quarantine/{id}/edited-body"));

        sender.Release();
        using var edited = await editing;
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        Assert.Equal("processed", (await edited.JsonAsync()).GetProperty("outcome").GetString());

        var entry = (await two.EntriesAsync($"order_id={order}")).Single();
        Assert.Equal("replayed", entry.GetProperty("state").GetString());
        Assert.False(entry.TryGetProperty("replaying_since", out _));
        Assert.False(entry.TryGetProperty("discarded_at", out _));
        Assert.Equal(1, sender.Sent);
    }

    [Fact]
    public async Task AReplayClaimLeftByASiloThatStoppedHoldsForTenMinutesThenLapses()
    {
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString });
        var client = consumer.CreateClient();

        // Two entries a stopped silo was replaying: one a minute ago, one eleven minutes ago.
        var (recent, lapsed) = (Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"));
        foreach (var (id, since) in new[] { (recent, TimeSpan.FromMinutes(1)), (lapsed, TimeSpan.FromMinutes(11)) })
        {
            var metadata = new JsonObject
            {
                ["id"] = id,
                ["received_at"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("O"),
                ["source"] = "push",
                ["reason"] = "message.data is not valid base64",
                ["replaying_since"] = DateTimeOffset.UtcNow.Subtract(since).ToString("O"),
                ["replaying_by"] = "stopped-silo-operator",
            };
            await redis.PutQuarantineEntryAsync(id, metadata.ToJsonString(), """{"message":{"data":"%%%"}}""");
        }

        using var refused = await client.ActAsync(recent, "discard");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("stopped-silo-operator", (await refused.JsonAsync()).GetProperty("reason").GetString());

        using var discarded = await client.ActAsync(lapsed, "discard");
        Assert.Equal(HttpStatusCode.OK, discarded.StatusCode);
        var listing = (await client.QuarantinedAsync()).Single(e => e.GetProperty("id").GetString() == lapsed);
        Assert.False(listing.TryGetProperty("replaying_since", out _));
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return value;
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task AnEditedBodyCountsAgainstTheBoundsAndIsEvictedWithItsEntry()
    {
        var settings = new Dictionary<string, string?>
        {
            ["PulseCart:Redis"] = redis.Server.ConnectionString,
            ["PulseCart:Quarantine:MaxEntries"] = "10",
        };
        await using var consumer = new ConsumerFactory(settings);
        var client = consumer.CreateClient();
        await client.SendAsync(Push.EnvelopeOfData("%% not base64 %%"));
        var before = (await client.GetJsonAsync("/ops/quarantine?limit=1")).GetProperty("stats");
        var id = (await client.QuarantinedAsync())[0].GetProperty("id").GetString()!;
        var edit = new string('x', 10_000);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await client.EditAsync(id, edit)).StatusCode);
        var after = (await client.GetJsonAsync("/ops/quarantine?limit=1")).GetProperty("stats");
        Assert.Equal(before.GetProperty("bytes").GetInt64() + 10_000, after.GetProperty("bytes").GetInt64());

        for (var i = 0; i < 10; i++)
        {
            await client.SendAsync(Push.EnvelopeOfData($"%% filler {i} %%"));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/ops/quarantine/{id}/edited-body")).StatusCode);
        var stats = (await client.GetJsonAsync("/ops/quarantine?limit=1")).GetProperty("stats");
        var kept = await client.QuarantinedAsync();
        Assert.Equal(kept.Sum(e => e.GetProperty("body_bytes").GetInt64()), stats.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task AnEntryAnEarlierVersionKeptKeepsItsBodyWhenAnOperatorActsOnIt()
    {
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString });
        var client = consumer.CreateClient();

        // Earlier versions kept the body inside the entry's metadata, as text, with nothing in the bodies' hash.
        var (id, body) = (Guid.NewGuid().ToString("N"), """{"message":{"data":"%%%"}}""");
        var metadata = new JsonObject
        {
            ["id"] = id,
            ["received_at"] = DateTimeOffset.UtcNow.AddDays(-1).ToString("O"),
            ["source"] = "push",
            ["reason"] = "message.data is not valid base64",
            ["raw_body"] = body,
            ["raw_body_encoding"] = "utf-8",
        };
        await redis.PutQuarantineEntryAsync(id, metadata.ToJsonString());

        Assert.Equal(body, await client.GetStringAsync($"/ops/quarantine/{id}/body"));
        using var discarded = await client.ActAsync(id, "discard");
        Assert.Equal(HttpStatusCode.OK, discarded.StatusCode);

        Assert.Equal(body, await client.GetStringAsync($"/ops/quarantine/{id}/body"));
    }
}
