using System.Net.Sockets;
using Orleans.Runtime;
using Orleans.Storage;
using PulseCart.Google.CloudTasks;
using PulseCart.Grains.Messaging;
using StackExchange.Redis;

namespace PulseCart.Consumer.Delivery;

/// <summary>
/// The one rule for answering Pub/Sub and Cloud Tasks: a failure is worth a 5xx only when a retry can succeed.
/// Everything else is deterministic, and redelivering it would only loop until the dead-letter topic.
/// </summary>
public static class TransientFailures
{
    /// <summary>
    /// True when <paramref name="exception"/>, or one it wraps, is a dependency that was unavailable, slow or in
    /// conflict: storage, the task queue, the messaging sink, the cluster, or this process shutting down.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is AggregateException aggregate)
            {
                return aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient);
            }

            if (IsTransientItself(current))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsTransientItself(Exception exception) => exception switch
    {
        CloudTasksException tasks => tasks.IsTransient,
        OperationCanceledException or TimeoutException or ObjectDisposedException => true,
        RedisException or HttpRequestException or IOException or SocketException => true,
        MessageSendException send => send.IsTransient,
        RetryLaterException => true,
        InconsistentStateException => true,
        OrleansMessageRejectionException or GatewayTooBusyException or ClientNotAvailableException or OrleansLifecycleCanceledException => true,
        _ => false,
    };
}
