using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PulseCart.CloudTasks.Tests.Support;
using PulseCart.Emulators.CloudTasks;
using PulseCart.Emulators.Oidc;
using PulseCart.Google.CloudTasks;

namespace PulseCart.CloudTasks.Tests;

/// <summary>Reminders scheduled through <see cref="CloudTasksQueue"/> and delivered by the emulator.</summary>
public sealed class EmulatorDispatchTests
{
    [Fact]
    public async Task ScheduledTaskIsDispatchedAtItsScheduleTimeWithCloudTasksHeadersAndThenGone()
    {
        await using var scenario = await Scenario.StartAsync();
        var id = Scenario.NewId();
        var dueAt = scenario.Clock.GetUtcNow().AddMinutes(10);

        var name = await scenario.Queue.ScheduleAsync(Scenario.Reminder(id, dueAt));
        var listed = await scenario.Emulator.Http.GetFromJsonAsync<JsonElement>($"/emulators/cloudtasks/v2/{Scenario.QueueName}/tasks");
        Assert.Equal(name, Assert.Single(listed.GetProperty("tasks").EnumerateArray()).GetProperty("name").GetString());

        await scenario.IdleAsync();
        await scenario.AdvanceAsync(TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(scenario.Handler.Received);

        scenario.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var callback = await scenario.Handler.NextAsync();

        Assert.Equal(dueAt, callback.ReceivedAt);
        Assert.Equal("POST", callback.Method);
        Assert.Equal("/tasks/cart-reminder", callback.Path);
        Assert.Equal("Google-Cloud-Tasks", callback.Header("User-Agent"));
        Assert.Equal("application/json", callback.Header("Content-Type"));
        Assert.Equal("pulsecart-cart-reminders", callback.Header("X-CloudTasks-QueueName"));
        Assert.Equal(id, callback.Header("X-CloudTasks-TaskName"));
        Assert.Equal("0", callback.Header("X-CloudTasks-TaskRetryCount"));
        Assert.Equal("0", callback.Header("X-CloudTasks-TaskExecutionCount"));
        Assert.Equal(dueAt.ToUnixTimeSeconds(), decimal.Parse(callback.Header("X-CloudTasks-TaskETA")!, CultureInfo.InvariantCulture));
        Assert.Null(callback.Header("X-CloudTasks-TaskPreviousResponse"));
        Assert.Null(callback.Header("X-CloudTasks-TaskRetryReason"));
        Assert.Equal(
            new CartReminderCallback(id, "cart-9", "user-42", "event-1", dueAt),
            JsonSerializer.Deserialize(callback.Body, CartReminderJsonContext.Default.CartReminderCallback));

        await scenario.IdleAsync();
        using var afterwards = await scenario.GetTaskAsync(name);
        Assert.Equal(HttpStatusCode.NotFound, afterwards.StatusCode);
        Assert.Equal((404, "NOT_FOUND"), await StatusOf(afterwards));
        var attempt = Assert.Single(scenario.Emulator.Emulator.Attempts);
        Assert.Equal((name, 1, 200, CloudTaskAttemptOutcome.Succeeded), (attempt.TaskName, attempt.Attempt, attempt.StatusCode, attempt.Outcome));
    }

    [Fact]
    public async Task SchedulingTheSameReminderTwiceSucceedsAndDispatchesOnce()
    {
        await using var scenario = await Scenario.StartAsync();
        var id = Scenario.NewId();
        var reminder = Scenario.Reminder(id, scenario.Clock.GetUtcNow().AddMinutes(1));

        var first = await scenario.Queue.ScheduleAsync(reminder);
        using var duplicate = await scenario.CreateRawAsync(Scenario.TaskJson(scenario.CallbackUrl.AbsoluteUri, name: first));
        var second = await scenario.Queue.ScheduleAsync(reminder);

        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal((409, "ALREADY_EXISTS"), await StatusOf(duplicate));
        Assert.Equal(first, second);
        await scenario.IdleAsync();
        await scenario.AdvanceAsync(TimeSpan.FromMinutes(1));
        await scenario.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Single(scenario.Handler.Received);
        Assert.Single(scenario.Emulator.Emulator.Attempts);
    }

    [Fact]
    public async Task DeletedTaskIsNeverDispatchedAndItsNameStaysReservedForAnHour()
    {
        await using var scenario = await Scenario.StartAsync();
        var name = await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.FromMinutes(5));
        var recreate = Scenario.TaskJson(scenario.CallbackUrl.AbsoluteUri, name: name);

        await scenario.Queue.DeleteAsync(name);
        await scenario.Queue.DeleteAsync(name);

        using (var gone = await scenario.GetTaskAsync(name))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        await scenario.IdleAsync();
        await scenario.AdvanceAsync(TimeSpan.FromMinutes(10));
        Assert.Empty(scenario.Handler.Received);

        using (var reserved = await scenario.CreateRawAsync(recreate))
        {
            Assert.Equal((409, "ALREADY_EXISTS"), await StatusOf(reserved));
        }

        await scenario.AdvanceAsync(TimeSpan.FromMinutes(51));
        using (var released = await scenario.CreateRawAsync(recreate))
        {
            Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        }

        Assert.NotNull(await scenario.Handler.NextAsync());
    }

    [Fact]
    public async Task CallbackCarriesAnOidcTokenThatValidatesAgainstTheServedKeySet()
    {
        await using var scenario = await Scenario.StartAsync();
        await scenario.ScheduleAsync(Scenario.NewId(), TimeSpan.Zero);
        var callback = await scenario.Handler.NextAsync();
        var authorization = callback.Header("Authorization");
        Assert.NotNull(authorization);
        Assert.StartsWith("Bearer ", authorization);
        var token = authorization["Bearer ".Length..];

        var discovery = await scenario.Emulator.Http.GetFromJsonAsync<JsonElement>(LocalOidcIssuer.DiscoveryPath);
        Assert.Equal("https://accounts.google.com", discovery.GetProperty("issuer").GetString());
        var jwksUri = discovery.GetProperty("jwks_uri").GetString()!;
        Assert.Equal(new Uri(scenario.Emulator.BaseAddress, LocalOidcIssuer.CertsPath), new Uri(jwksUri));
        var keys = new JsonWebKeySet(await scenario.Emulator.Http.GetStringAsync(jwksUri));
        var key = Assert.Single(keys.Keys);
        Assert.Equal(("RSA", "RS256", "sig"), (key.Kty, key.Alg, key.Use));

        var handler = new JsonWebTokenHandler();
        var valid = await handler.ValidateTokenAsync(token, Parameters(keys, scenario.CallbackUrl.AbsoluteUri));
        var wrongAudience = await handler.ValidateTokenAsync(token, Parameters(keys, "https://someone-else.example/tasks/cart-reminder"));

        Assert.True(valid.IsValid, valid.Exception?.Message);
        var jwt = Assert.IsType<JsonWebToken>(valid.SecurityToken);
        Assert.Equal(key.Kid, jwt.Kid);
        Assert.Equal(Scenario.ServiceAccount, jwt.GetPayloadValue<string>("email"));
        Assert.True(jwt.GetPayloadValue<bool>("email_verified"));
        Assert.Equal(TimeSpan.FromHours(1), jwt.ValidTo - jwt.IssuedAt);
        Assert.False(wrongAudience.IsValid);
    }

    private static TokenValidationParameters Parameters(JsonWebKeySet keys, string audience) => new()
    {
        ValidIssuer = "https://accounts.google.com",
        ValidAudience = audience,
        IssuerSigningKeys = keys.GetSigningKeys(),
        ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        RequireSignedTokens = true,
    };

    private static async Task<(int Code, string Status)> StatusOf(HttpResponseMessage response)
    {
        var (code, status, _) = await GoogleErrors.ReadAsync(response);
        return (code, status);
    }
}
