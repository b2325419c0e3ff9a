using System.Net;
using System.Security.Cryptography;
using System.Text;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The operator surface as a person sees it, in headless Chromium (Debian's chromium and chromium-driver): the Orleans
/// Dashboard lists our grains, the operator page shows the quarantine, and its Replay button works once the cause is fixed.
/// Screenshots land in <c>screenshots/</c> beside the test assembly.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class OperatorPageBrowserTests(RedisFixture redis)
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    [Fact]
    public async Task OperatorSeesTrafficAndReplaysAQuarantinedMessageOnceItsCauseIsFixed()
    {
        var settings = new Dictionary<string, string?> { ["PulseCart:Redis"] = redis.Server.ConnectionString };
        var unsignedOrder = Push.NewId("o-unsigned");
        var unsigned = Push.Envelope(Push.OrderPlaced(Push.NewId("e"), unsignedOrder, "u-unsigned"));

        // The publisher forgot to sign: with signatures required, the message is kept in the quarantine.
        await using (var strict = new ConsumerFactory(new Dictionary<string, string?>(settings) { ["PulseCart:Push:SignatureSecret"] = "s3cret" }))
        {
            Assert.Equal("quarantined", (await strict.CreateClient().SendAsync(unsigned)).Outcome());
        }

        // The fix: this consumer no longer requires signatures. It shares the quarantine through Redis.
        await using var consumer = new ConsumerFactory(settings);
        var client = consumer.CreateClient();
        await DriveTrafficAsync(client);
        var baseUrl = $"http://127.0.0.1:{consumer.Port}";

        using var browser = StartChromium();
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(30));

        browser.Navigate().GoToUrl($"{baseUrl}/dashboard/#/grains");
        wait.Until(page => page.PageSource.Contains("CartGrain") && page.PageSource.Contains("OrderGrain"));
        Save(browser, "dashboard.png");

        browser.Navigate().GoToUrl($"{baseUrl}/ops/");
        wait.Until(page => page.FindElement(By.Id("quarantine")).Text.Contains("message signature missing"));
        var quarantine = browser.FindElement(By.Id("quarantine")).Text;
        Assert.Contains("message.data is not valid base64", quarantine);
        Assert.Contains("processed", browser.FindElement(By.Id("outcomes")).Text);
        Assert.Contains("order_confirmation", browser.FindElement(By.Id("messages")).Text);
        wait.Until(page => page.FindElement(By.Id("reminders")).Text.Contains("c-browser"));
        Save(browser, "operator-page.png");

        var row = browser.FindElements(By.CssSelector("#quarantine tbody tr")).First(r => r.Text.Contains("message signature missing"));
        row.FindElement(By.TagName("button")).Click();
        wait.Until(page => page.FindElement(By.Id("quarantine")).Text.Contains("replayed: processed"));
        Save(browser, "operator-page-after-replay.png");

        Assert.Single(consumer.SentWithKey($"order_confirmation:{unsignedOrder}"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/ops/orders/{unsignedOrder}")).StatusCode);
    }

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

    private static void Save(ChromeDriver browser, string name)
    {
        Directory.CreateDirectory(Screenshots);
        browser.GetScreenshot().SaveAsFile(Path.Combine(Screenshots, name));
    }
}
