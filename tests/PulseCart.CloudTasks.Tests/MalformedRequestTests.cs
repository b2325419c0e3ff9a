using System.Net;
using System.Text;
using PulseCart.CloudTasks.Tests.Support;
using PulseCart.Emulators.CloudTasks;

namespace PulseCart.CloudTasks.Tests;

/// <summary>Whatever bytes arrive, every REST method answers Google's 400 INVALID_ARGUMENT, never a 500 or an empty body.</summary>
public sealed class MalformedRequestTests
{
    public static TheoryData<string> Bodies => new()
    {
        """{"\ud800":1}""",
        """{"task":{"name":"\udc00"}}""",
        """{"task":""",
        "[]",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task EveryMethodWithABodyRefusesMalformedJsonAsInvalidArgument(string body)
    {
        await using var scenario = await Scenario.StartAsync();
        foreach (var method in CloudTasksEmulatorEndpoints.Methods.Where(method => method.Method is "POST" or "PATCH"))
        {
            var path = method.Template.Replace("{project}", "pulsecart-local").Replace("{location}", "local")
                .Replace("{queue}", "pulsecart-cart-reminders").Replace("{task}", "some-task");
            using var request = new HttpRequestMessage(new HttpMethod(method.Method), $"/emulators/cloudtasks/{path}")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };

            using var response = await scenario.Emulator.Http.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method.Method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var error = await GoogleErrors.ReadAsync(response);
            Assert.Equal((400, "INVALID_ARGUMENT"), (error.Code, error.Status));
        }
    }

    [Theory]
    [InlineData("GET", "/emulators/cloudtasks/v2/projects/p/nothing")]
    [InlineData("PUT", "/emulators/cloudtasks/v2/projects/pulsecart-local/locations/local/queues/pulsecart-cart-reminders")]
    [InlineData("GET", "/emulators/cloudtasks/v3/anything")]
    public async Task UnknownRoutesGetGooglesNotFoundBodyNotAnEmptyOne(string method, string path)
    {
        await using var scenario = await Scenario.StartAsync();

        using var response = await scenario.Emulator.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await GoogleErrors.ReadAsync(response);
        Assert.Equal((404, "NOT_FOUND"), (error.Code, error.Status));
        Assert.Contains("is not a method of the Cloud Tasks twin", error.Message);
    }
}
