using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Api;
using PulseCart.Emulators.Oidc;
using PulseCart.GoogleApis.CloudTasks.V2;
using Task = System.Threading.Tasks.Task;

namespace PulseCart.Emulators.CloudTasks;

public static class CloudTasksEmulatorEndpoints
{
    private const string Location = "v2/projects/{project}/locations/{location}";
    private const string Queue = $"{Location}/queues/{{queue}}";
    private const string Task = $"{Queue}/tasks/{{task}}";

    /// <summary>The Cloud Tasks v2 REST methods the twin serves, as Google maps them onto URLs.</summary>
    internal static readonly IReadOnlyList<RestMethod> Methods =
    [
        new("GET", $"{Location}/queues", call => Answer(Emulator(call).ListQueues(call.WithQuery(new ListQueuesRequest { Parent = LocationName(call) })))),
        new("POST", $"{Location}/queues", async call => Emulator(call).CreateQueue(new CreateQueueRequest { Parent = LocationName(call), Queue = await call.BodyAsync<Queue>() })),
        new("GET", Queue, call => Answer(Emulator(call).GetQueue(QueueName(call)))),
        new("PATCH", Queue, async call =>
        {
            var queue = await call.BodyAsync<Queue>();
            queue.Name = QueueName(call);
            return Emulator(call).UpdateQueue(call.WithQuery(new UpdateQueueRequest { Queue = queue }));
        }),
        new("DELETE", Queue, async call =>
        {
            await Emulator(call).DeleteQueueAsync(QueueName(call));
            return new Empty();
        }),
        new("POST", $"{Queue}:purge", async call =>
        {
            await call.BodyAsync<PurgeQueueRequest>();
            return await Emulator(call).PurgeQueueAsync(QueueName(call));
        }),
        new("POST", $"{Queue}:pause", async call =>
        {
            await call.BodyAsync<PauseQueueRequest>();
            return Emulator(call).PauseQueue(QueueName(call));
        }),
        new("POST", $"{Queue}:resume", async call =>
        {
            await call.BodyAsync<ResumeQueueRequest>();
            return Emulator(call).ResumeQueue(QueueName(call));
        }),
        new("GET", $"{Queue}/tasks", async call => await Emulator(call).ListTasksAsync(call.WithQuery(new ListTasksRequest { Parent = QueueName(call) }))),
        new("POST", $"{Queue}/tasks", async call =>
        {
            var request = await call.BodyAsync<CreateTaskRequest>();
            request.Parent = QueueName(call);
            return await Emulator(call).CreateTaskAsync(request);
        }),
        new("GET", Task, async call => await Emulator(call).GetTaskAsync(call.WithQuery(new GetTaskRequest { Name = TaskName(call) }))),
        new("DELETE", Task, async call =>
        {
            await Emulator(call).DeleteTaskAsync(new DeleteTaskRequest { Name = TaskName(call) });
            return new Empty();
        }),
        new("POST", $"{Task}:run", async call =>
        {
            var request = await call.BodyAsync<RunTaskRequest>();
            request.Name = TaskName(call);
            return await Emulator(call).RunTaskAsync(request);
        }),
    ];

    /// <summary>
    /// Maps the Cloud Tasks v2 REST API (queues and tasks) under <c>PulseCart:Emulators:CloudTasks:PathPrefix</c>, plus the
    /// emulator OIDC issuer's key set. Returns the API's route group, for adding authorization or filters.
    /// </summary>
    public static RouteGroupBuilder MapCloudTasksEmulator(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapCloudTasksEmulator(endpoints.ServiceProvider.GetRequiredService<IOptions<CloudTasksEmulatorOptions>>().Value.PathPrefix);

    /// <summary>As <see cref="MapCloudTasksEmulator(IEndpointRouteBuilder)"/>, under <paramref name="pathPrefix"/> ("" for the root).</summary>
    public static RouteGroupBuilder MapCloudTasksEmulator(this IEndpointRouteBuilder endpoints, string pathPrefix)
    {
        endpoints.MapLocalOidcIssuer();
        return endpoints.MapRestApi(pathPrefix, "v2", "Cloud Tasks", Methods);
    }

    private static CloudTasksEmulator Emulator(RestCall call) => call.Services.GetRequiredService<CloudTasksEmulator>();

    private static Task<IMessage> Answer(IMessage message) => System.Threading.Tasks.Task.FromResult(message);

    private static string LocationName(RestCall call) => $"projects/{call["project"]}/locations/{call["location"]}";

    private static string QueueName(RestCall call) => $"{LocationName(call)}/queues/{call["queue"]}";

    private static string TaskName(RestCall call) => $"{QueueName(call)}/tasks/{call["task"]}";
}
