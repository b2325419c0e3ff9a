using System.Net;
using System.Text;
using PulseCart.Emulators.PubSub;
using PulseCart.PubSub.Tests.Support;

namespace PulseCart.PubSub.Tests;

/// <summary>Whatever bytes arrive, every REST method answers Google's 400 INVALID_ARGUMENT, never a 500 or an empty body.</summary>
public sealed class MalformedRequestTests
{
    public static TheoryData<string> Bodies => new()
    {
        """{"\ud800":1}""",
        """{"name":"\udc00"}""",
        """{"messages":[{"data":""",
        "[]",
        "\"just a string\"",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task EveryMethodWithABodyRefusesMalformedJsonAsInvalidArgument(string body)
    {
        await using var host = await PubSubHost.StartAsync();
        await host.CreateTopicAsync("orders");
        await host.CreateSubscriptionAsync("orders-push", "orders");
        foreach (var method in PubSubEmulatorEndpoints.Methods.Where(method => method.Method is "POST" or "PUT" or "PATCH"))
        {
            var path = method.Template.Replace("{project}", PubSubHost.Project).Replace("{topic}", "orders").Replace("{subscription}", "orders-push");
            using var request = new HttpRequestMessage(new HttpMethod(method.Method), $"/emulators/pubsub/{path}")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };

            using var response = await host.Http.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method.Method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal((400, "INVALID_ARGUMENT"), await StatusAsync(response));
        }
    }

    [Fact]
    public async Task BodyThatIsNotUtf8IsInvalidArgument()
    {
        await using var host = await PubSubHost.StartAsync();

        using var response = await host.Http.PutAsync($"/emulators/pubsub/v1/{PubSubHost.TopicName("orders")}", new ByteArrayContent([0x7B, 0xC3, 0x28, 0x7D]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal((400, "INVALID_ARGUMENT"), await StatusAsync(response));
    }

    private static async Task<(int, string)> StatusAsync(HttpResponseMessage response)
    {
        var error = await GoogleErrors.ReadAsync(response);
        return (error.Code, error.Status);
    }
}
