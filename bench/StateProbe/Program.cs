using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using Orleans.Storage;
using PulseCart.Abstractions.Carts;
using PulseCart.Abstractions.Events;
using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;
using PulseCart.Grains.Reminders;
using StackExchange.Redis;

// The grain-state path alone, no HTTP: the real CartGrain on one in-process silo, 64 concurrent callers, with each
// storage in turn and interleaved rounds. NOT PRODUCT CODE.
//   dotnet run -c Release --project bench/StateProbe -- --redis 127.0.0.1:6379 [--seconds 5] [--rounds 3] [--callers 64]
var settings = args.Chunk(2).ToDictionary(pair => pair[0].TrimStart('-'), pair => pair[1]);
var redis = settings.GetValueOrDefault("redis", "127.0.0.1:6379");
var seconds = double.Parse(settings.GetValueOrDefault("seconds", "5"));
var rounds = int.Parse(settings.GetValueOrDefault("rounds", "3"));
var callers = int.Parse(settings.GetValueOrDefault("callers", "64"));
var storages = settings.GetValueOrDefault("storages", "orleans-redis,pulsecart-redis,pulsecart-memory").Split(',');
var operations = new[] { "fresh activation + read + write", "active grain + write", "active grain, no write" };

var results = new List<(string Storage, string Operation, double Rate, double CpuMicros, double AllocatedKb)>();
for (var round = 1; round <= rounds; round++)
{
    foreach (var storage in round % 2 == 0 ? storages.Reverse() : storages)
    {
        using var flush = await ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
        await flush.GetServer(flush.GetEndPoints()[0]).FlushAllDatabasesAsync();
        using var host = StartSilo(storage, redis);
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var prefix = $"r{round}-{storage}-";

        // Warm-up: JIT and connections, then a set of active carts for the warm operations.
        await Measure(grains, "fresh activation + read + write", prefix + "warm-", 2);
        var warm = Enumerable.Range(0, 2_000).Select(i => grains.GetGrain<ICartGrain>($"{prefix}active-{i}")).ToArray();
        await Task.WhenAll(warm.Select((cart, i) => cart.CartUpdatedAsync(Updated($"{prefix}first-{i}", $"{prefix}active-{i}"))));
        foreach (var operation in operations)
        {
            var (rate, cpu, allocated) = await Measure(grains, operation, prefix, seconds, warm);
            results.Add((storage, operation, rate, cpu, allocated));
            Console.Error.WriteLine($"round {round} {storage,-17} {operation,-32} {rate,9:F0}/s {cpu,7:F1} µs CPU {allocated,6:F1} KB");
        }

        await host.StopAsync();
    }
}

Console.WriteLine($"{"storage",-17} {"operation",-32} {"calls/s",9} {"CPU µs/call",11} {"KB/call",8}   (medians of {rounds} rounds, {callers} callers)");
foreach (var group in results.GroupBy(result => (result.Storage, result.Operation)))
{
    Console.WriteLine($"{group.Key.Storage,-17} {group.Key.Operation,-32} {Median(group.Select(r => r.Rate)),9:F0} {Median(group.Select(r => r.CpuMicros)),11:F1} {Median(group.Select(r => r.AllocatedKb)),8:F1}");
}

async Task<(double Rate, double CpuMicros, double AllocatedKb)> Measure(IGrainFactory grains, string operation, string prefix, double duration, ICartGrain[]? warm = null)
{
    var stop = Stopwatch.StartNew();
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var bytes0 = GC.GetTotalAllocatedBytes();
    var calls = 0L;
    await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
    {
        var random = new Random(caller);
        for (var n = 0; stop.Elapsed.TotalSeconds < duration; n++)
        {
            var id = $"{prefix}{caller}-{n}";
            switch (operation)
            {
                case "fresh activation + read + write":
                    await grains.GetGrain<ICartGrain>(id).CartUpdatedAsync(Updated(id, id));
                    break;
                case "active grain + write":
                    var cart = warm![random.Next(warm.Length)];
                    await cart.CartUpdatedAsync(Updated(id, cart.GetPrimaryKeyString()));
                    break;
                default:
                    await warm![random.Next(warm.Length)].GetAsync();
                    break;
            }

            Interlocked.Increment(ref calls);
        }
    })));
    var elapsed = stop.Elapsed.TotalSeconds;
    var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds;
    return (calls / elapsed, cpu / calls, (GC.GetTotalAllocatedBytes() - bytes0) / 1024.0 / calls);
}

static CartUpdated Updated(string eventId, string cartId) => new(eventId, DateTimeOffset.UtcNow, cartId, "u-probe");

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static IHost StartSilo(string storage, string redis)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddSingleton<ITaskQueue, NoTasks>();
    builder.Services.AddSingleton<IMessageSender, NoMessages>();
    builder.UseOrleans(silo =>
    {
        silo.UseLocalhostClustering(siloPort: 21_111, gatewayPort: 23_000);
        switch (storage)
        {
            case "orleans-redis":
                silo.Services.AddRedisGrainStorage(GrainStorage.Name, options => options
                    .Configure(redisOptions => redisOptions.ConfigurationOptions = ConfigurationOptions.Parse(redis))
                    .Configure<Serializer, IGrainStorageSerializer>((redisOptions, binary, json) =>
                        redisOptions.GrainStorageSerializer = new GrainStateSerializer(binary, json)));
                break;
            case "pulsecart-redis":
                silo.AddPulseCartGrainStorage(_ => new RedisStateStore(ConnectionMultiplexer.Connect(redis)));
                break;
            default:
                silo.AddPulseCartGrainStorage(_ => new MemoryStateStore());
                break;
        }
    });
    return builder.Build();
}

internal sealed class NoTasks : ITaskQueue
{
    public Task<string> ScheduleAsync(ReminderTask task, CancellationToken cancellationToken = default) => Task.FromResult(task.ReminderId);

    public Task DeleteAsync(string taskName, CancellationToken cancellationToken = default) => Task.CompletedTask;
}

internal sealed class NoMessages : IMessageSender
{
    public string Sink => "none";

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken = default) => Task.CompletedTask;
}
