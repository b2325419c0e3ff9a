using Grpc.Core;
using Grpc.Core.Interceptors;
using StackExchange.Redis;

namespace PulseCart.Emulators.Api;

/// <summary>Turns an emulated API's refusal into the gRPC status Google would answer with.</summary>
internal sealed class ApiExceptionInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception exception) when (StatusOf(exception) is { } status)
        {
            throw new RpcException(status);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception exception) when (StatusOf(exception) is { } status)
        {
            throw new RpcException(status);
        }
    }

    private static Status? StatusOf(Exception exception) => exception switch
    {
        ApiException api => new Status(api.Code, api.Message),
        RedisException or TimeoutException => new Status(StatusCode.Unavailable, $"The twin's store is unavailable: {exception.Message}"),
        _ => null,
    };
}
