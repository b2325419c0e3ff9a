using System.Text;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.PubSub.Tests;

/// <summary>
/// A method of Google's API that the twin does not implement answers 501 UNIMPLEMENTED over REST, as it does over gRPC,
/// so gcloud does not report it as a missing resource; a path that is no method of the API keeps its 404.
/// </summary>
public sealed class UnimplementedMethodTests
{
    [Theory]
    [InlineData("GET", "v1/projects/test-project/snapshots", 501)]
    [InlineData("POST", "v1/projects/test-project/subscriptions/orders:seek", 501)]
    [InlineData("POST", "v1/projects/test-project/subscriptions/orders:detach", 501)]
    [InlineData("GET", "v1/projects/test-project/topics/orders:getIamPolicy", 501)]
    [InlineData("GET", "v1/projects/test-project/schemas", 501)]
    [InlineData("POST", "v1/projects/test-project/topics/orders:frobnicate", 404)]
    [InlineData("GET", "v1/projects/test-project/nothing-here", 404)]
    [InlineData("POST", "v1/projects/test-project/snapshots", 404)]
    public async Task PubSubMethodTheTwinLacksAnswersUnimplementedAndAnyOtherPathNotFound(string method, string path, int code)
    {
        await using var host = await PubSubHost.StartAsync();

        using var response = await host.Http.SendAsync(Request(method, $"/emulators/pubsub/{path}"));

        var error = await GoogleErrors.ReadAsync(response);
        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal((code, code == 501 ? "UNIMPLEMENTED" : "NOT_FOUND"), (error.Code, error.Status));
    }

    private static HttpRequestMessage Request(string method, string path) =>
        new(new HttpMethod(method), path) { Content = method == "GET" ? null : new StringContent("{}", Encoding.UTF8, "application/json") };
}
