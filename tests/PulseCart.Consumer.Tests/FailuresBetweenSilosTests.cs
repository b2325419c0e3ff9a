using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using PulseCart.Consumer.Delivery;
using PulseCart.Google.CloudTasks;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;
using StackExchange.Redis;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// In a cluster, the grain that failed may live on another silo, and its exception comes back through Orleans'
/// serializer. What it comes back as decides the push's answer: a dependency that was down must still be answered 503
/// (retried), a refusal still quarantined.
/// </summary>
public sealed class FailuresBetweenSilosTests
{
    public static TheoryData<Exception, bool> Failures => new()
    {
        { new RedisTimeoutException("Timeout awaiting response", CommandStatus.Sent), true },
        { new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No connection is active"), true },
        { new RedisServerException("LOADING Redis is loading the dataset in memory"), true },
        { new CloudTasksException("Cloud Tasks answered 503", HttpStatusCode.ServiceUnavailable, "UNAVAILABLE"), true },
        { new CloudTasksRejectedException("scheduleTime is more than 30 days ahead", HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), false },
        { new MessageSendException("webhook answered 503"), true },
        { new MessageSendException("webhook answered 422", refused: true), false },
        { new CorruptStateException("the state stored under k cannot be read"), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task AFailureKeepsItsAnswerAfterCrossingToAnotherSilo(Exception failure, bool retried)
    {
        await using var consumer = new ConsumerFactory();
        _ = consumer.CreateClient();
        var serializer = consumer.Services.GetRequiredService<Serializer>();

        var arrived = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(failure));

        Assert.IsType(failure.GetType(), arrived);
        Assert.Equal(failure.Message, arrived.Message);
        Assert.Equal(retried, TransientFailures.IsTransient(arrived));
    }
}
