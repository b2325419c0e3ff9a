using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using PulseCart.GoogleApis.CloudTasks.V2;
using CloudTask = PulseCart.GoogleApis.CloudTasks.V2.Task;
using Task = System.Threading.Tasks.Task;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>The Cloud Tasks v2 gRPC service, every method answered by the same emulator as the REST API.</summary>
internal sealed class CloudTasksGrpcService(CloudTasksEmulator emulator) : GoogleApis.CloudTasks.V2.CloudTasks.CloudTasksBase
{
    private static readonly Empty Empty = new();

    public override Task<ListQueuesResponse> ListQueues(ListQueuesRequest request, ServerCallContext context) => Task.FromResult(emulator.ListQueues(request));

    public override Task<Queue> GetQueue(GetQueueRequest request, ServerCallContext context) => Task.FromResult(emulator.GetQueue(request.Name));

    public override Task<Queue> CreateQueue(CreateQueueRequest request, ServerCallContext context) => Task.FromResult(emulator.CreateQueue(request));

    public override Task<Queue> UpdateQueue(UpdateQueueRequest request, ServerCallContext context) => Task.FromResult(emulator.UpdateQueue(request));

    public override async Task<Empty> DeleteQueue(DeleteQueueRequest request, ServerCallContext context)
    {
        await emulator.DeleteQueueAsync(request.Name);
        return Empty;
    }

    public override Task<Queue> PurgeQueue(PurgeQueueRequest request, ServerCallContext context) => emulator.PurgeQueueAsync(request.Name);

    public override Task<Queue> PauseQueue(PauseQueueRequest request, ServerCallContext context) => Task.FromResult(emulator.PauseQueue(request.Name));

    public override Task<Queue> ResumeQueue(ResumeQueueRequest request, ServerCallContext context) => Task.FromResult(emulator.ResumeQueue(request.Name));

    public override Task<ListTasksResponse> ListTasks(ListTasksRequest request, ServerCallContext context) => emulator.ListTasksAsync(request);

    public override Task<CloudTask> GetTask(GetTaskRequest request, ServerCallContext context) => emulator.GetTaskAsync(request);

    public override Task<CloudTask> CreateTask(CreateTaskRequest request, ServerCallContext context) => emulator.CreateTaskAsync(request);

    public override async Task<Empty> DeleteTask(DeleteTaskRequest request, ServerCallContext context)
    {
        await emulator.DeleteTaskAsync(request);
        return Empty;
    }

    public override Task<CloudTask> RunTask(RunTaskRequest request, ServerCallContext context) => emulator.RunTaskAsync(request);
}
