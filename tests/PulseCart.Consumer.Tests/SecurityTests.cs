using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PulseCart.Consumer.Tests;

public sealed class SecurityFixture : IAsyncLifetime
{
    public const string Audience = "https://pulsecart.example/consumer/push";
    public const string Pusher = "pusher@pulsecart.iam.gserviceaccount.com";

    public LocalJwks Jwks { get; private set; } = null!;

    public const string CallbackBaseUrl = "https://consumer.pulsecart.example";

    public ConsumerFactory Consumer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Jwks = await LocalJwks.StartAsync();
        Consumer = new ConsumerFactory(new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["PulseCart:Auth:Mode"] = "oidc",
            ["PulseCart:Auth:JwksUri"] = Jwks.JwksUri,
            ["PulseCart:Auth:Audience"] = Audience,
            ["PulseCart:Auth:AllowedServiceAccounts:0"] = Pusher,
            // A real queue, as in production: no embedded emulators, and the task door's audience is the callback URL.
            ["PulseCart:CloudTasks:ProjectId"] = "pulsecart-prod",
            ["PulseCart:CloudTasks:Location"] = "europe-west1",
            ["PulseCart:CloudTasks:CallbackBaseUrl"] = CallbackBaseUrl,
            ["PulseCart:CloudTasks:BaseUrl"] = "http://127.0.0.1:9",
            ["PulseCart:Operators:BasicUser"] = "ops",
            ["PulseCart:Operators:BasicPasswordSha256"] = Convert.ToHexString(SHA256.HashData("s3cret"u8)),
        });
        Consumer.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await Consumer.DisposeAsync();
        await Jwks.DisposeAsync();
    }
}

public sealed class SecurityTests(SecurityFixture fixture) : IClassFixture<SecurityFixture>
{
    private LocalJwks Jwks => fixture.Jwks;

    [Fact]
    public async Task PushWithoutATokenIsUnauthenticated()
    {
        var (status, detail) = await PushWithAsync(token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("missing bearer token", detail);
    }

    [Theory]
    [InlineData("malformed", "token")]
    [InlineData("wrong signature", "signature")]
    [InlineData("expired", "exp")]
    [InlineData("wrong issuer", "iss")]
    [InlineData("wrong audience", "aud")]
    [InlineData("unverified email", "email_verified")]
    [InlineData("unknown key", "kid")]
    [InlineData("issued in the future", "iat")]
    [InlineData("no issue time", "iat")]
    public async Task InvalidTokenIsUnauthenticatedNamingTheFailedClaim(string kind, string claim)
    {
        var token = kind switch
        {
            "malformed" => "not.a.jwt-at-all",
            "wrong signature" => Jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher,
                signingKey: new Microsoft.IdentityModel.Tokens.RsaSecurityKey(RSA.Create(2048)) { KeyId = Jwks.CurrentKey.KeyId }),
            "expired" => Jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, expires: DateTime.UtcNow.AddMinutes(-5)),
            "wrong issuer" => Jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, issuer: "https://evil.example"),
            "wrong audience" => Jwks.Mint("https://elsewhere.example/push", SecurityFixture.Pusher),
            "unverified email" => Jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, emailVerified: false),
            "issued in the future" => Jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, issuedAt: DateTime.UtcNow.AddMinutes(10)),
            "no issue time" => Jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, withoutIssuedAt: true),
            _ => Jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, signingKey: LocalJwks.NewKey()),
        };

        var (status, detail) = await PushWithAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains($"{claim} failed", detail);
        Assert.DoesNotContain(fixture.Consumer.Logs.Lines, line => line.Contains(token));
    }

    [Fact]
    public async Task ValidTokenFromAnotherAccountIsForbidden()
    {
        var (status, detail) = await PushWithAsync(Jwks.Mint(SecurityFixture.Audience, "intruder@other.iam.gserviceaccount.com"));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("not in PulseCart:Auth:AllowedServiceAccounts", detail);
    }

    [Fact]
    public async Task ValidTokenFromTheAllowedAccountIsProcessed()
    {
        var order = Push.NewId("o");
        var (status, detail) = await PushWithAsync(Jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher), order);

        Assert.True(status == HttpStatusCode.NoContent, detail);
        Assert.Single(fixture.Consumer.SentWithKey($"order_confirmation:{order}"));
    }

    [Theory]
    [InlineData("a push token", HttpStatusCode.Unauthorized)]
    [InlineData("a task token", HttpStatusCode.NoContent)]
    public async Task TheTaskDoorDefaultsToTheCallbackAudienceNotThePushOne(string kind, HttpStatusCode expected)
    {
        var audience = kind == "a push token" ? SecurityFixture.Audience : $"{SecurityFixture.CallbackBaseUrl}/tasks/cart-reminder";
        using var client = fixture.Consumer.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/tasks/cart-reminder")
        {
            Content = new StringContent($$"""{"reminder_id":"{{Guid.NewGuid():N}}","cart_id":"{{Push.NewId("c")}}"}"""),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Jwks.Mint(audience, SecurityFixture.Pusher));
        request.Headers.Add("X-CloudTasks-QueueName", "pulsecart-cart-reminders");

        var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task ProductionServesNoEmbeddedEmulator()
    {
        using var client = fixture.Consumer.CreateClient();

        var response = await client.GetAsync("/emulators/pubsub/v1/projects/pulsecart-local/topics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task OperatorRoutesRefuseAnonymousCallers()
    {
        using var anonymous = fixture.Consumer.CreateClient();
        anonymous.DefaultRequestHeaders.Authorization = null;

        var response = await anonymous.GetAsync("/ops/quarantine");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Basic", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [InlineData("Bearer", ConsumerFactory.OperatorToken, HttpStatusCode.OK)]
    [InlineData("Bearer", "guessed-token", HttpStatusCode.Unauthorized)]
    [InlineData("Basic", "ops:s3cret", HttpStatusCode.OK)]
    [InlineData("Basic", "ops:wrong", HttpStatusCode.Unauthorized)]
    public async Task OperatorRoutesAcceptOnlyConfiguredCredentials(string scheme, string credential, HttpStatusCode expected)
    {
        using var client = fixture.Consumer.CreateClient();
        var parameter = scheme == "Basic" ? Convert.ToBase64String(Encoding.UTF8.GetBytes(credential)) : credential;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, parameter);

        Assert.Equal(expected, (await client.GetAsync("/ops/quarantine")).StatusCode);
    }

    [Fact]
    public async Task RotatedKeyIsPickedUpWithoutAFetchStorm()
    {
        await using var jwks = await LocalJwks.StartAsync();
        await using var consumer = ConsumerTrusting(jwks);
        Assert.Equal(HttpStatusCode.NoContent, (await PushWithAsync(jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher), consumer: consumer)).Status);

        var rotated = jwks.Rotate();
        var (status, detail) = await PushWithAsync(jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, signingKey: rotated), consumer: consumer);
        Assert.True(status == HttpStatusCode.NoContent, detail);
        var fetchesAfterRotation = jwks.Fetches;

        // Forged key ids right after a refresh must not each cost a fetch.
        for (var i = 0; i < 20; i++)
        {
            var forged = await PushWithAsync(jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, signingKey: LocalJwks.NewKey()), consumer: consumer);
            Assert.Equal(HttpStatusCode.Unauthorized, forged.Status);
        }

        Assert.Equal(2, fetchesAfterRotation);
        Assert.Equal(fetchesAfterRotation, jwks.Fetches);
    }

    [Fact]
    public async Task AKeyPublishedDuringAKeySetOutageIsRetriedLaterNotRefusedAndCostsOneFetch()
    {
        await using var jwks = await LocalJwks.StartAsync();
        await using var consumer = ConsumerTrusting(jwks);
        Assert.Equal(HttpStatusCode.NoContent, (await PushWithAsync(jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher), consumer: consumer)).Status);

        var original = jwks.CurrentKey;
        jwks.Down = true;
        var rotated = jwks.Rotate();
        var fetchesBefore = jwks.Fetches;
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            PushWithAsync(jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, signingKey: rotated), consumer: consumer)));

        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status));
        Assert.Equal(fetchesBefore + 1, jwks.Fetches);

        // A key the consumer already has still works.
        Assert.Equal(HttpStatusCode.NoContent, (await PushWithAsync(jwks.Mint(SecurityFixture.Audience, SecurityFixture.Pusher, signingKey: original), consumer: consumer)).Status);
    }

    [Fact]
    public async Task AnOperatorsGoogleTokenMeetingAKeySetOutageIsAskedToRetryNotAnError()
    {
        await using var jwks = await LocalJwks.StartAsync();
        jwks.Down = true;
        await using var consumer = new ConsumerFactory(new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["PulseCart:Auth:Mode"] = "oidc",
            ["PulseCart:Auth:JwksUri"] = jwks.JwksUri,
            ["PulseCart:Auth:Audience"] = SecurityFixture.Audience,
            ["PulseCart:Auth:AllowedServiceAccounts:0"] = SecurityFixture.Pusher,
            ["PulseCart:CloudTasks:ProjectId"] = "pulsecart-prod",
            ["PulseCart:CloudTasks:Location"] = "europe-west1",
            ["PulseCart:CloudTasks:CallbackBaseUrl"] = SecurityFixture.CallbackBaseUrl,
            ["PulseCart:CloudTasks:BaseUrl"] = "http://127.0.0.1:9",
            ["PulseCart:Operators:Audience"] = "https://ops.pulsecart.example",
            ["PulseCart:Operators:AllowedAccounts:0"] = "oncall@pulsecart.example",
        });
        using var client = consumer.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", jwks.Mint("https://ops.pulsecart.example", "oncall@pulsecart.example"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/ops/quarantine")).StatusCode);

        jwks.Down = false;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/ops/quarantine")).StatusCode);
    }

    [Theory]
    [InlineData("localhost", HttpStatusCode.OK, HttpStatusCode.OK)]
    [InlineData("127.0.0.1", HttpStatusCode.OK, HttpStatusCode.OK)]
    [InlineData("evil.example", HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden)]
    public async Task InDevelopmentOnlyRequestsNamingThisMachineActAsOperatorOrReachTheTwins(string host, HttpStatusCode ops, HttpStatusCode twin)
    {
        // Development on loopback needs no operator credentials; a page that rebinds its own name to 127.0.0.1 reaches
        // loopback too, but names its own host.
        await using var consumer = new ConsumerFactory();
        using var client = consumer.CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        var port = client.BaseAddress!.Port;
        client.DefaultRequestHeaders.Host = $"{host}:{port}";

        Assert.Equal(ops, (await client.GetAsync("/ops/quarantine")).StatusCode);
        Assert.Equal(twin, (await client.GetAsync("/emulators/pubsub/v1/projects/pulsecart-local/topics")).StatusCode);
    }

    /// <summary>A consumer of its own, trusting <paramref name="jwks"/>, so its key changes cannot disturb the other tests' keys.</summary>
    private static ConsumerFactory ConsumerTrusting(LocalJwks jwks) => new(new Dictionary<string, string?>
    {
        ["PulseCart:Auth:Mode"] = "oidc",
        ["PulseCart:Auth:JwksUri"] = jwks.JwksUri,
        ["PulseCart:Auth:Audience"] = SecurityFixture.Audience,
        ["PulseCart:Auth:AllowedServiceAccounts:0"] = SecurityFixture.Pusher,

        // Longer than a test can take on a loaded machine: a second unknown-key refresh may not be due in it.
        ["PulseCart:Auth:MinKeyRefreshInterval"] = "01:00:00",
    });

    private async Task<(HttpStatusCode Status, string Detail)> PushWithAsync(string? token, string? order = null, ConsumerFactory? consumer = null)
    {
        using var client = (consumer ?? fixture.Consumer).CreateClient();
        client.DefaultRequestHeaders.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        var response = await client.PushAsync(Push.OrderPlaced(Push.NewId("e"), order ?? Push.NewId("o"), "u-1"));
        var body = await response.Content.ReadAsStringAsync();
        var detail = body.Length > 0 ? JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()! : "";
        return (response.StatusCode, detail);
    }
}
