using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PulseCart.Consumer.Tests;

/// <summary>Operators acting on the quarantine over HTTP: causes, filters, discard, edit and replay, the audit, the charts.</summary>
public sealed class QuarantineActionTests(ConsumerFixture fixture) : IClassFixture<ConsumerFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task DeliveriesWhoseReasonsDifferOnlyInIdsNumbersAndQuotedValuesFormOneGroup()
    {
        var type = Push.NewId("test.versioned");
        foreach (var version in new JsonNode[] { 2, 7, 42, "beta", "gamma" })
        {
            var @event = Push.Event(type, Push.NewId("e"), Push.T0, "u-1", new JsonObject()).With(e => e["event_version"] = version);
            Assert.Equal("quarantined", (await Client.PushAsync(@event)).Outcome());
        }

        var cart = Push.NewId("c-late");
        foreach (var year in new[] { 2001, 2002 })
        {
            await Client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, "u-1", new DateTimeOffset(year, 3, 4, 5, 6, 7, TimeSpan.Zero)));
        }

        var groups = await Client.GroupsAsync($"event_type={type}");
        Assert.Equal(2, groups.Count);
        Assert.Equal("event_version … is not supported (expected …)", groups[0].GetProperty("cause").GetString());
        Assert.Equal(3, groups[0].GetProperty("count").GetInt32());
        Assert.Equal(3, groups[0].GetProperty("open").GetInt32());
        Assert.Equal("event_version \"…\" is not supported (expected …)", groups[1].GetProperty("cause").GetString());
        Assert.Equal(2, groups[1].GetProperty("count").GetInt32());
        Assert.True(groups[0].GetProperty("first_seen").GetDateTimeOffset() <= groups[0].GetProperty("last_seen").GetDateTimeOffset());

        var late = Assert.Single(await Client.GroupsAsync($"cart_id={cart}"));
        Assert.Equal("occurred_at … is older than PulseCart:Events:MaxAge allows (earliest …)", late.GetProperty("cause").GetString());
        Assert.Equal(2, late.GetProperty("count").GetInt32());
        Assert.Contains("2002-03-04", late.GetProperty("example").GetString());

        // The group's key selects exactly its entries.
        var members = await Client.EntriesAsync($"group={groups[1].GetProperty("group").GetString()}");
        Assert.Equal(2, members.Count);
        Assert.All(members, entry => Assert.Contains("is not supported", entry.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task FiltersNarrowTheQuarantineBySourceEventTypeEventIdCartAndOrder()
    {
        var (cart, order) = (Push.NewId("c-f"), Push.NewId("o-f"));
        var abandonedId = Push.NewId("e");
        await Client.PushAsync(Push.CartAbandoned(abandonedId, cart, "u-1", Push.T0).With(e => e.Remove("user_id")));
        await Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1", cart).With(e => e.Remove("user_id")));
        await Client.PushAsync(Push.PaymentFailed(Push.NewId("e"), order, "u-1").With(e => e.Remove("user_id")));
        var task = await Client.PostAsync("/tasks/cart-reminder", JsonContent.Create(new { cart_id = cart }));
        Assert.Equal("quarantined", task.Outcome());

        Assert.Equal(3, (await Client.EntriesAsync($"cart_id={cart}")).Count);
        Assert.Equal(2, (await Client.EntriesAsync($"order_id={order}")).Count);
        var reminder = Assert.Single(await Client.EntriesAsync($"cart_id={cart}&source=task"));
        Assert.Equal("cart.reminder", reminder.GetProperty("event_type").GetString());
        Assert.Contains("reminder_id", reminder.GetProperty("reason").GetString());
        var abandoned = Assert.Single(await Client.EntriesAsync($"event_id={abandonedId}"));
        Assert.Equal(cart, abandoned.GetProperty("cart_id").GetString());
        var payment = Assert.Single(await Client.EntriesAsync($"event_type=payment.failed&order_id={order}"));
        Assert.Equal("open", payment.GetProperty("state").GetString());
        Assert.Empty(await Client.EntriesAsync($"order_id={order}&state=discarded"));
    }

    [Fact]
    public async Task DiscardKeepsTheEntryMarkedNeverReplaysItAndIsSafeToRepeat()
    {
        var (cart, order) = (Push.NewId("c-d"), Push.NewId("o-d"));
        await Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-1", cart).With(e => e.Remove("user_id")));
        await Client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, "u-1", Push.T0).With(e => e.Remove("user_id")));
        var first = (await Client.EntriesAsync($"order_id={order}")).Single().GetProperty("id").GetString()!;

        var discarded = await Client.ActAsync(first, "discard");
        Assert.Equal(HttpStatusCode.OK, discarded.StatusCode);
        var body = await discarded.JsonAsync();
        Assert.True(body.GetProperty("discarded").GetBoolean());
        Assert.False(body.GetProperty("already_discarded").GetBoolean());
        Assert.Equal("token", body.GetProperty("discarded_by").GetString());

        var again = await (await Client.ActAsync(first, "discard")).JsonAsync();
        Assert.True(again.GetProperty("already_discarded").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, (await Client.ActAsync(first, "replay")).StatusCode);

        var job = await Client.BulkAsync("discard", new { cart_id = cart });
        Assert.Equal(2, job.GetProperty("total").GetInt32());
        Assert.Equal(1, job.Count("discarded"));
        Assert.Equal(1, job.Count("already_discarded"));
        var repeated = await Client.BulkAsync("discard", new { cart_id = cart });
        Assert.Equal(0, repeated.Count("discarded"));
        Assert.Equal(2, repeated.Count("already_discarded"));

        var kept = await Client.EntriesAsync($"cart_id={cart}");
        Assert.Equal(2, kept.Count);
        Assert.All(kept, entry => Assert.Equal("discarded", entry.GetProperty("state").GetString()));
        Assert.Empty(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PostAsJsonAsync("/ops/quarantine/discard", new { })).StatusCode);
    }

    [Fact]
    public async Task EditAndReplayKeepsTheEditedBodyBesideTheOriginalAndSendsOnce()
    {
        var order = Push.NewId("o-edit");
        var eventId = Push.NewId("e");
        var original = Push.Envelope(Push.OrderPlaced(eventId, order, "u-1").With(e => e.Remove("user_id")));
        await Client.SendAsync(original);
        var id = (await Client.EntriesAsync($"order_id={order}")).Single().GetProperty("id").GetString()!;

        var stillBad = Push.Envelope(Push.OrderPlaced(eventId, order, "u-1").With(e => e["user_id"] = ""));
        var refused = await Client.EditAsync(id, stillBad);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("user_id is empty", (await refused.JsonAsync()).GetProperty("reason").GetString());
        Assert.Equal(stillBad, await Client.GetStringAsync($"/ops/quarantine/{id}/edited-body"));

        var fixedBody = Push.Envelope(Push.OrderPlaced(eventId, order, "u-edited"));
        var replayed = await Client.EditAsync(id, fixedBody);
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        var result = await replayed.JsonAsync();
        Assert.Equal("processed", result.GetProperty("outcome").GetString());
        Assert.True(result.GetProperty("edited").GetBoolean());

        Assert.Equal(original, await Client.GetStringAsync($"/ops/quarantine/{id}/body"));
        Assert.Equal(fixedBody, await Client.GetStringAsync($"/ops/quarantine/{id}/edited-body"));
        var entry = (await Client.EntriesAsync($"order_id={order}")).Single();
        Assert.Equal("replayed", entry.GetProperty("state").GetString());
        Assert.Equal("token", entry.GetProperty("edited_by").GetString());
        Assert.Equal("token", entry.GetProperty("replayed_by").GetString());

        // Done is done: no second edit, and a replay answers with what happened before, sending nothing.
        Assert.Equal(HttpStatusCode.Conflict, (await Client.EditAsync(id, fixedBody)).StatusCode);
        var repeat = await (await Client.ActAsync(id, "replay")).JsonAsync();
        Assert.True(repeat.GetProperty("already_replayed").GetBoolean());
        Assert.Equal("processed", repeat.GetProperty("outcome").GetString());
        var sent = Assert.Single(fixture.Factory.SentWithKey($"order_confirmation:{order}"));
        Assert.Equal("u-edited", sent.GetProperty("user_id").GetString());
    }

    [Fact]
    public async Task AReminderCallbackStillUnusableIsReportedOnReplayNotQuarantinedAgain()
    {
        var cart = Push.NewId("c-task");
        Assert.Equal("quarantined", (await Client.PostAsync("/tasks/cart-reminder", JsonContent.Create(new { cart_id = cart }))).Outcome());
        var id = (await Client.EntriesAsync($"cart_id={cart}")).Single().GetProperty("id").GetString()!;

        for (var i = 0; i < 2; i++)
        {
            var replay = await Client.ActAsync(id, "replay");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, replay.StatusCode);
            Assert.Equal("quarantined", (await replay.JsonAsync()).GetProperty("outcome").GetString());
        }

        var entry = Assert.Single(await Client.EntriesAsync($"cart_id={cart}"));
        Assert.Equal("open", entry.GetProperty("state").GetString());
    }

    [Fact]
    public async Task ActionsFromAPageOfAnotherOriginAreRefused()
    {
        await Client.PushAsync(Push.OrderPlaced(Push.NewId("e"), Push.NewId("o-origin"), "u-1").With(e => e.Remove("user_id")));
        var id = (await Client.QuarantinedAsync())[0].GetProperty("id").GetString();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/ops/quarantine/{id}/discard");
        request.Headers.Add("Origin", "https://evil.example");

        Assert.Equal(HttpStatusCode.Forbidden, (await Client.SendAsync(request)).StatusCode);
        Assert.Equal("open", (await Client.QuarantinedAsync()).Single(e => e.GetProperty("id").GetString() == id).GetProperty("state").GetString());
    }

    [Fact]
    public async Task ChartsShowTheLastHourPerMinuteAsServerDrawnSvg()
    {
        for (var i = 0; i < 3; i++)
        {
            await Client.PushAsync(Push.PaymentFailed(Push.NewId("e"), Push.NewId("o-chart"), "u-1"));
        }

        var charts = await Client.GetJsonAsync("/ops/charts");
        var processed = charts.GetProperty("deliveries").GetProperty("processed").EnumerateArray().Select(v => v.GetInt64()).ToList();
        Assert.Equal(60, processed.Count);
        Assert.True(processed[^1] + processed[^2] >= 3, $"last minutes: {processed[^2]}, {processed[^1]}");
        Assert.Equal(JsonValueKind.Number, charts.GetProperty("quarantine_size")[59].ValueKind);

        var svg = await Client.GetAsync("/ops/charts/deliveries.svg");
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        var drawing = await svg.Content.ReadAsStringAsync();
        Assert.StartsWith("<svg", drawing);
        Assert.Contains("<polyline data-series=\"processed\"", drawing);
        Assert.Contains("data-series=\"entries\"", await Client.GetStringAsync("/ops/charts/quarantine.svg"));
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/ops/charts/nothing.svg")).StatusCode);
    }
}

/// <summary>Who did what: each way an operator authenticates names them in the audit list and the log.</summary>
public sealed class OperatorAuditTests : IAsyncLifetime
{
    private const string Audience = "https://pulsecart.example/ops";
    private const string Account = "alice@pulsecart.example";

    private LocalJwks _jwks = null!;
    private ConsumerFactory _consumer = null!;

    public async Task InitializeAsync()
    {
        _jwks = await LocalJwks.StartAsync();
        _consumer = new ConsumerFactory(new Dictionary<string, string?>
        {
            ["PulseCart:Auth:JwksUri"] = _jwks.JwksUri,
            ["PulseCart:Operators:BasicUser"] = "ops",
            ["PulseCart:Operators:BasicPasswordSha256"] = Convert.ToHexString(SHA256.HashData("s3cret"u8)),
            ["PulseCart:Operators:Audience"] = Audience,
            ["PulseCart:Operators:AllowedAccounts:0"] = Account,
        });
    }

    public async Task DisposeAsync()
    {
        await _consumer.DisposeAsync();
        await _jwks.DisposeAsync();
    }

    [Fact]
    public async Task EveryActionIsAuditedWithTheOperatorItsAuthenticationNamed()
    {
        var token = _consumer.CreateClient();
        var basic = _consumer.CreateClient();
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:s3cret")));
        var google = _consumer.CreateClient();
        google.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _jwks.Mint(Audience, Account));
        var order = Push.NewId("o-audit");
        for (var i = 0; i < 3; i++)
        {
            await token.PushAsync(Push.PaymentFailed(Push.NewId("e"), order, "u-1").With(e => e.Remove("user_id")));
        }

        var ids = (await token.EntriesAsync($"order_id={order}")).Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.Equal(HttpStatusCode.OK, (await token.ActAsync(ids[0], "discard")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await basic.ActAsync(ids[1], "discard")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await google.ActAsync(ids[2], "replay")).StatusCode);

        var audit = await token.AuditAsync();
        string Who(string id, string action) => audit.Single(e => e.GetProperty("target").GetString() == $"quarantine entry {id}" && e.GetProperty("action").GetString() == action)
            .GetProperty("operator").GetString()!;
        Assert.Equal("token", Who(ids[0], "discard"));
        Assert.Equal("ops", Who(ids[1], "discard"));
        Assert.Equal(Account, Who(ids[2], "replay"));
        Assert.StartsWith("still unusable: user_id is missing", audit.First(e => e.GetProperty("operator").GetString() == Account).GetProperty("outcome").GetString());
        Assert.Contains(_consumer.Logs.Lines, line => line.StartsWith("Information PulseCart.Consumer.Audit.OperatorAudit: Operator ops did discard on quarantine entry " + ids[1], StringComparison.Ordinal));
    }
}
