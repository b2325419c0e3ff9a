using StackExchange.Redis;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PulseCart.Emulators.Oidc;

namespace PulseCart.Emulators.CloudTasks;

public static class CloudTasksEmulatorEndpoints
{
    private const string QueueRoute = "/v2/projects/{project}/locations/{location}/queues/{queue}/tasks";

    /// <summary>
    /// Maps the Cloud Tasks v2 task API (create, get, list, delete) under <c>PulseCart:Emulators:CloudTasks:PathPrefix</c>,
    /// plus the emulator OIDC issuer's key set. Returns the API's route group, for adding authorization or filters.
    /// </summary>
    public static RouteGroupBuilder MapCloudTasksEmulator(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<CloudTasksEmulatorOptions>>().Value;
        endpoints.MapLocalOidcIssuer();
        var group = endpoints.MapGroup(options.PathPrefix).ExcludeFromDescription();
        group.AddEndpointFilter(StoreUnavailableAs503);
        group.MapPost(QueueRoute, CreateTaskAsync);
        group.MapGet(QueueRoute, ListTasksAsync);
        group.MapGet($"{QueueRoute}/{{task}}", GetTaskAsync);
        group.MapDelete($"{QueueRoute}/{{task}}", DeleteTaskAsync);
        return group;
    }

    private static async Task<Results<JsonHttpResult<TaskResource>, JsonHttpResult<ErrorResource>>> CreateTaskAsync(
        string project, string location, string queue, HttpRequest request, CloudTasksEmulator emulator)
    {
        try
        {
            CreateTaskRequestResource? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync(request.Body, CloudTasksResourceJsonContext.Default.CreateTaskRequestResource, request.HttpContext.RequestAborted);
            }
            catch (JsonException exception)
            {
                throw CloudTasksApiException.InvalidArgument($"Invalid JSON payload received. {exception.Message}");
            }

            var task = await emulator.CreateTaskAsync(QueueName(project, location, queue), body);
            return TypedResults.Json(task, CloudTasksResourceJsonContext.Default.TaskResource);
        }
        catch (CloudTasksApiException error)
        {
            return Error(error);
        }
    }

    private static async Task<Results<JsonHttpResult<TaskResource>, JsonHttpResult<ErrorResource>>> GetTaskAsync(
        string project, string location, string queue, string task, string? responseView, CloudTasksEmulator emulator)
    {
        try
        {
            return TypedResults.Json(
                await emulator.GetTaskAsync(QueueName(project, location, queue), task, responseView),
                CloudTasksResourceJsonContext.Default.TaskResource);
        }
        catch (CloudTasksApiException error)
        {
            return Error(error);
        }
    }

    private static async Task<Results<JsonHttpResult<ListTasksResource>, JsonHttpResult<ErrorResource>>> ListTasksAsync(
        string project, string location, string queue, string? responseView, int? pageSize, string? pageToken, CloudTasksEmulator emulator)
    {
        try
        {
            return TypedResults.Json(
                await emulator.ListTasksAsync(QueueName(project, location, queue), responseView, pageSize, pageToken),
                CloudTasksResourceJsonContext.Default.ListTasksResource);
        }
        catch (CloudTasksApiException error)
        {
            return Error(error);
        }
    }

    private static async Task<Results<JsonHttpResult<EmptyResource>, JsonHttpResult<ErrorResource>>> DeleteTaskAsync(
        string project, string location, string queue, string task, CloudTasksEmulator emulator)
    {
        try
        {
            await emulator.DeleteTaskAsync(QueueName(project, location, queue), task);
            return TypedResults.Json(new EmptyResource(), CloudTasksResourceJsonContext.Default.EmptyResource);
        }
        catch (CloudTasksApiException error)
        {
            return Error(error);
        }
    }

    private static string QueueName(string project, string location, string queue) => $"projects/{project}/locations/{location}/queues/{queue}";

    // Like Cloud Tasks when its backend is down: 503 UNAVAILABLE, which clients retry, rather than an unhandled 500.
    private static async ValueTask<object?> StoreUnavailableAs503(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return TypedResults.Json(
                new ErrorResource(new ErrorDetailResource(503, $"task store unavailable: {exception.Message}", "UNAVAILABLE")),
                CloudTasksResourceJsonContext.Default.ErrorResource,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static JsonHttpResult<ErrorResource> Error(CloudTasksApiException error) =>
        TypedResults.Json(
            new ErrorResource(new ErrorDetailResource(error.HttpStatus, error.Message, error.Status)),
            CloudTasksResourceJsonContext.Default.ErrorResource,
            statusCode: error.HttpStatus);
}
