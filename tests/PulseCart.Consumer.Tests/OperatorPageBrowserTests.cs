using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using PulseCart.Consumer.Emulators;
using PulseCart.Emulators.CloudTasks;
using PulseCart.Emulators.PubSub;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The operator surface as a person sees it, in headless Chromium (Debian's chromium and chromium-driver): the Orleans
/// Dashboard lists our grains; the operator page draws its charts, groups the quarantine by cause, replays one entry and
/// then its whole group with counts, discards another group, edits and replays one entry, pauses deliveries and resumes
/// them, and lists every action in the audit. Screenshots land in <c>screenshots/</c> beside the test assembly.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class OperatorPageBrowserTests(RedisFixture redis)
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    [Fact]
    public async Task OperatorSeesTrafficFixesTheQuarantineByCauseAndPausesDeliveries()
    {
        var settings = new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString };
        var attribute = "sig" + string.Concat(Guid.NewGuid().ToString("N").Select(c => (char)('a' + (c % 26))));
        var unsignedOrders = Enumerable.Range(0, 3).Select(_ => Push.NewId("o-unsigned")).ToList();

        // The publisher forgot to sign: with signatures required, its messages are kept in the quarantine.
        await using (var strict = new ConsumerFactory(new Dictionary<string, string?>(settings)
        {
            ["PulseCart:Push:SignatureSecret"] = "s3cret",
            ["PulseCart:Push:SignatureAttribute"] = attribute,
        }))
        {
            var strictClient = strict.CreateClient();
            foreach (var order in unsignedOrders)
            {
                Assert.Equal("quarantined", (await strictClient.PushAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-unsigned"))).Outcome());
            }
        }

        // The fix: this consumer no longer requires signatures. It shares the quarantine through Redis. Two more causes
        // arrive: a publisher on a version nobody supports, and an order without its recipient.
        await using var consumer = new ConsumerFactory(settings);
        var client = consumer.CreateClient();
        await DriveTrafficAsync(client);
        var futureType = Push.NewId("test.future");
        foreach (var version in new[] { 2, 3 })
        {
            await client.PushAsync(Push.Event(futureType, Push.NewId("e"), Push.T0, "u-1", new JsonObject()).With(e => e["event_version"] = version));
        }

        var orphanOrder = Push.NewId("o-orphan");
        await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), orphanOrder, "u-1").With(e => e.Remove("user_id")));
        var signatureGroup = (await client.GroupsAsync("source=push")).Single(g => g.GetProperty("cause").GetString()!.Contains(attribute)).GetProperty("group").GetString();
        var versionGroup = (await client.GroupsAsync($"event_type={futureType}")).Single().GetProperty("group").GetString();
        var baseUrl = $"http://127.0.0.1:{consumer.Port}";

        using var browser = StartChromium();
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(30));
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(InvalidOperationException), typeof(ElementClickInterceptedException));

        browser.Navigate().GoToUrl($"{baseUrl}/dashboard/#/grains");
        wait.Until(page => page.PageSource.Contains("CartGrain") && page.PageSource.Contains("OrderGrain"));
        Save(browser, "dashboard.png");

        browser.Navigate().GoToUrl($"{baseUrl}/ops/");
        wait.Until(page => page.FindElement(By.Id("groups")).Text.Contains($"message signature missing (attribute {attribute})"));
        wait.Until(page => page.FindElements(By.CssSelector("#chart-deliveries polyline[data-series='processed']")).Count == 1);
        Assert.Contains("message.data is not valid base64", browser.FindElement(By.Id("quarantine")).Text);
        Assert.Contains("event_version … is not supported (expected …)", browser.FindElement(By.Id("groups")).Text);
        Assert.Contains("processed", browser.FindElement(By.Id("outcomes")).Text);
        Assert.Contains("order_confirmation", browser.FindElement(By.Id("messages")).Text);
        wait.Until(page => page.FindElement(By.Id("reminders")).Text.Contains("c-browser"));
        Assert.Single(browser.FindElements(By.CssSelector("#chart-reminders polyline[data-series='scheduled']")));
        Assert.Single(browser.FindElements(By.CssSelector("#chart-quarantine polyline[data-series='entries']")));
        Save(browser, "operator-page.png");

        // One entry by hand, then the rest of its cause in bulk: the one already replayed is not sent again.
        // The page re-renders its tables every 5 s: a click finds its element afresh (the wait ignores stale ones, and
        // clicks that another element took while the layout settled).
        void Click(Func<IWebElement> element) => wait.Until(_ =>
        {
            element().Click();
            return true;
        });

        Click(() => Row(browser, unsignedOrders[0]).FindElement(By.TagName("button")));
        wait.Until(_ => Row(browser, unsignedOrders[0]).Text.Contains("replayed: processed"));
        Click(() => GroupButton(browser, signatureGroup, "replay-group"));
        wait.Until(page => page.FindElement(By.Id("job")).Text.Contains("done"));
        var replayJob = browser.FindElement(By.Id("job")).Text;
        Assert.Contains("processed 2", replayJob);
        Assert.Contains("already replayed 1", replayJob);
        Save(browser, "operator-page-after-bulk-replay.png", "by-cause");

        // The unsupported version is not ours to fix: discard its group (two clicks), which keeps the entries, marked.
        Click(() => GroupButton(browser, versionGroup, "discard-group"));
        wait.Until(_ => GroupButton(browser, versionGroup, "discard-group").Text == "Confirm discard");
        Click(() => GroupButton(browser, versionGroup, "discard-group"));
        wait.Until(page => page.FindElement(By.Id("job")).Text.Contains("discarded 2"));

        // The order without a recipient: edit the event inside the push and replay it.
        Click(() => Row(browser, orphanOrder).FindElements(By.TagName("button")).Single(b => b.Text == "Edit"));
        var editor = wait.Until(page => page.FindElement(By.Id("editor-body")) is { Displayed: true } box && box.GetDomProperty("value")!.Contains(orphanOrder) ? box : null)!;
        var fixedEvent = JsonNode.Parse(editor.GetDomProperty("value")!)!.AsObject().With(e => e["user_id"] = "u-found");
        ((IJavaScriptExecutor)browser).ExecuteScript("arguments[0].value = arguments[1]", editor, fixedEvent.ToJsonString());
        Save(browser, "operator-page-editing.png", "editor");
        Click(() => browser.FindElement(By.Id("editor-save")));
        wait.Until(_ => Row(browser, orphanOrder).Text.Contains("replayed: processed"));

        wait.Until(page => page.FindElement(By.Id("audit")).Text is var audit
            && audit.Contains("edit_replay") && audit.Contains("discard") && audit.Contains($"quarantine entry") && audit.Contains("processed 2"));
        var auditText = browser.FindElement(By.Id("audit")).Text;
        Assert.Contains("development-loopback", auditText);
        Assert.Contains("discarded 2", auditText);
        Save(browser, "operator-page-after-actions.png", "audit-section");

        await PauseAndResumeAsync(browser, wait, consumer, client, Click);

        Assert.All(unsignedOrders, order => Assert.Single(consumer.SentWithKey($"order_confirmation:{order}")));
        Assert.Equal("u-found", Assert.Single(consumer.SentWithKey($"order_confirmation:{orphanOrder}")).GetProperty("user_id").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/ops/orders/{orphanOrder}")).StatusCode);
    }

    /// <summary>
    /// The messaging service is down: the operator pauses. The push subscription stops pushing (its endpoint detached),
    /// the reminder queue stops dispatching, nothing reaches the dead-letter topic; resume delivers what waited, once.
    /// </summary>
    private static async Task PauseAndResumeAsync(ChromeDriver browser, WebDriverWait wait, ConsumerFactory consumer, HttpClient client, Action<Func<IWebElement>> click)
    {
        var pubSub = consumer.Services.GetRequiredService<PubSubEmulator>();
        var tasks = consumer.Services.GetRequiredService<CloudTasksEmulator>();
        browser.ExecuteScript("window.scrollTo(0, 0)");
        try
        {
            click(() => browser.FindElement(By.Id("pause-button")));
            wait.Until(page => page.FindElement(By.Id("pause-state")).Text.StartsWith("Paused since", StringComparison.Ordinal));
            wait.Until(page => page.FindElement(By.Id("pause-parts")).Text is var parts && parts.Contains("detached") && parts.Contains("not pushing") && parts.Contains("PAUSED"));
            Assert.Equal("Resume deliveries", browser.FindElement(By.Id("pause-button")).Text);
            Assert.False((await client.SubscriptionAsync()).GetProperty("pushConfig").TryGetProperty("pushEndpoint", out _));
            Assert.Equal("PAUSED", await client.QueueStateAsync());

            // An order published, and a cart whose reminder is already due: both wait.
            var order = Push.NewId("o-held");
            var messageId = await client.PublishAsync(Push.OrderPlaced(Push.NewId("e"), order, "u-held", at: DateTimeOffset.UtcNow));
            var cart = Push.NewId("c-held");
            await client.PushAsync(Push.CartAbandoned(Push.NewId("e"), cart, "u-held", DateTimeOffset.UtcNow - TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1)));
            var reminderId = (await client.GetJsonAsync($"/ops/carts/{cart}")).GetProperty("reminder").GetProperty("reminder_id").GetString()!;
            wait.Until(page => page.FindElement(By.Id("reminders")).Text.Contains(cart));
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.DoesNotContain(pubSub.Attempts, attempt => attempt.MessageId == messageId);
            Assert.DoesNotContain(tasks.Attempts, attempt => attempt.TaskName.EndsWith("/" + reminderId, StringComparison.Ordinal));
            Assert.Empty(pubSub.MessagesOf(EmbeddedPubSub.DeadLetterTopic));
            Assert.Empty(consumer.SentWithKey($"order_confirmation:{order}"));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
            Save(browser, "operator-page-paused.png");

            click(() => browser.FindElement(By.Id("pause-button")));
            wait.Until(page => page.FindElement(By.Id("pause-state")).Text == "Deliveries flowing");
            wait.Until(_ => consumer.SentWithKey($"order_confirmation:{order}").Count == 1 && consumer.SentWithKey($"cart_abandonment_reminder:{reminderId}").Count == 1);
            var push = Assert.Single(pubSub.Attempts, attempt => attempt.MessageId == messageId);
            Assert.Equal((PushAttemptOutcome.Acknowledged, 1), (push.Outcome, push.DeliveryAttempt));
            Assert.Empty(pubSub.MessagesOf(EmbeddedPubSub.DeadLetterTopic));
            wait.Until(page => page.FindElement(By.Id("pause-parts")).Text.Contains("pushing to"));
            Assert.Contains("restored the push config", browser.FindElement(By.Id("pause-result")).Text);
            Save(browser, "operator-page-resumed.png");
            wait.Until(page => page.FindElement(By.Id("audit")).Text is var audit && audit.Contains("pause") && audit.Contains("resume") && audit.Contains("pushes detached; reminders paused"));
            Save(browser, "operator-page-audit-pause.png", "audit-section");
        }
        finally
        {
            await client.PostAsync("/ops/resume", null);
        }
    }

    private static IWebElement Row(ChromeDriver browser, string text) =>
        browser.FindElements(By.CssSelector("#quarantine tbody tr")).Single(row => row.Text.Contains(text));

    private static IWebElement GroupButton(ChromeDriver browser, string? group, string kind) =>
        browser.FindElement(By.CssSelector($"#groups button.{kind}[data-group='{group}']"));

    private static async Task DriveTrafficAsync(HttpClient client)
    {
        for (var i = 0; i < 5; i++)
        {
            var placed = Push.OrderPlaced(Push.NewId("e"), Push.NewId("o"), $"u-{i}");
            await client.PushAsync(placed);
            await client.PushAsync(placed);
        }

        await client.PushAsync(Push.CartAbandoned(Push.NewId("e"), Push.NewId("c-browser"), "u-9", DateTimeOffset.UtcNow));
        await client.PushAsync(Push.PaymentFailed(Push.NewId("e"), Push.NewId("o"), "u-3"));
        await client.SendAsync(Push.EnvelopeOfData("%%% not base64 %%%"));
    }

    private static ChromeDriver StartChromium()
    {
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments(
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
            $"--user-data-dir={Directory.CreateTempSubdirectory("pulsecart-chromium-").FullName}");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    private static void Save(ChromeDriver browser, string name, string? section = null)
    {
        if (section is not null)
        {
            browser.ExecuteScript("document.getElementById(arguments[0]).scrollIntoView()", section);
        }

        Directory.CreateDirectory(Screenshots);
        browser.GetScreenshot().SaveAsFile(Path.Combine(Screenshots, name));
    }
}
