using System.Net;
using System.Text;
using PulseCart.CloudTasks.Tests.Support;

namespace PulseCart.CloudTasks.Tests;

/// <summary>
/// A method of Google's API that the twin does not implement answers 501 UNIMPLEMENTED over REST, as it does over gRPC,
/// so gcloud does not report it as a missing resource (the Pub/Sub twin's side: PulseCart.PubSub.Tests).
/// </summary>
public sealed class UnimplementedMethodTests
{
    [Theory]
    [InlineData("GET", "v2/projects/pulsecart-local/locations")]
    [InlineData("GET", "v2/projects/pulsecart-local/locations/local")]
    [InlineData("POST", "v2/projects/pulsecart-local/locations/local/queues/pulsecart-cart-reminders:getIamPolicy")]
    [InlineData("POST", "v2/projects/pulsecart-local/locations/local/queues/pulsecart-cart-reminders/tasks/t1:buffer")]
    public async Task CloudTasksMethodTheTwinLacksAnswersUnimplemented(string method, string path)
    {
        await using var scenario = await Scenario.StartAsync();

        using var response = await scenario.Emulator.Http.SendAsync(Request(method, $"/emulators/cloudtasks/{path}"));

        var error = await GoogleErrors.ReadAsync(response);
        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        Assert.Equal((501, "UNIMPLEMENTED"), (error.Code, error.Status));
        Assert.Contains("that the Cloud Tasks twin does not implement", error.Message);
    }

    private static HttpRequestMessage Request(string method, string path) =>
        new(new HttpMethod(method), path) { Content = method == "GET" ? null : new StringContent("{}", Encoding.UTF8, "application/json") };
}
