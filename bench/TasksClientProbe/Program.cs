// What one createTask costs the caller: the consumer's CloudTasksQueue (IHttpClientFactory, the resilience pipeline,
// protobuf JSON), the same without the factory's logging handlers, and the seed's way (bench/Baseline): one plain
// HttpClient POST of the task's JSON. Interleaved rounds in one process, 16 callers each, against a Cloud Tasks
// stand-in (bench/TasksStub):
//   dotnet run -c Release --project bench/TasksClientProbe -- http://127.0.0.1:PORT [rounds] [seconds]
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PulseCart.Google.CloudTasks;
using PulseCart.Grains.Reminders;

var baseUrl = args[0].TrimEnd('/');
var rounds = args.Length > 1 ? int.Parse(args[1]) : 3;
var seconds = args.Length > 2 ? int.Parse(args[2]) : 5;
const string QueuePath = "projects/bench/locations/local/queues/pulsecart-cart-reminders";
const int Callers = 16;

var consumer = Queue(withLoggers: true);
var withoutLoggers = Queue(withLoggers: false);
var seedClient = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan });
var createUrl = new Uri($"{baseUrl}/v2/{QueuePath}/tasks");
var variants = new (string Name, Func<string, Task> Create)[]
{
    ("seed: HttpClient POST", SeedCreateAsync),
    ("consumer: CloudTasksQueue", id => consumer.ScheduleAsync(Reminder(id))),
    ("CloudTasksQueue without logging handlers", id => withoutLoggers.ScheduleAsync(Reminder(id))),
};

var run = Guid.NewGuid().ToString("N")[..8];
foreach (var (_, create) in variants)
{
    await Measure(create, $"w{run}", TimeSpan.FromSeconds(2)); // connections, JIT
}

var results = variants.ToDictionary(v => v.Name, _ => new List<(double Us, double Kb, double PerSecond)>());
for (var round = 1; round <= rounds; round++)
{
    foreach (var (name, create) in round % 2 == 1 ? variants : variants.Reverse())
    {
        var result = await Measure(create, $"r{round}{run}{name.Length}", TimeSpan.FromSeconds(seconds));
        results[name].Add(result);
        Console.WriteLine($"round {round}  {name,-42} {result.PerSecond,8:0} /s  {result.Us,6:0.0} µs CPU  {result.Kb,6:0.00} KB per call");
    }
}

foreach (var (name, list) in results)
{
    Console.WriteLine($"median  {name,-42} {Median(list.Select(r => r.PerSecond)),8:0} /s  {Median(list.Select(r => r.Us)),6:0.0} µs CPU  {Median(list.Select(r => r.Kb)),6:0.00} KB per call");
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static async Task<(double Us, double Kb, double PerSecond)> Measure(Func<string, Task> create, string prefix, TimeSpan duration)
{
    long calls = 0;
    var process = Process.GetCurrentProcess();
    var cpuBefore = process.TotalProcessorTime;
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Callers).Select(async _ =>
    {
        while (clock.Elapsed < duration)
        {
            await create($"{prefix}-{Interlocked.Increment(ref calls)}");
        }
    }));
    var elapsed = clock.Elapsed;
    process.Refresh();
    var cpu = process.TotalProcessorTime - cpuBefore;
    var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
    return (cpu.TotalMicroseconds / calls, allocated / 1024.0 / calls, calls / elapsed.TotalSeconds);
}

ITaskQueue Queue(bool withLoggers)
{
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["PulseCart:CloudTasks:BaseUrl"] = baseUrl,
        ["PulseCart:CloudTasks:ProjectId"] = "bench",
        ["PulseCart:CloudTasks:Location"] = "local",
        ["PulseCart:CloudTasks:CallbackBaseUrl"] = "http://127.0.0.1:1",
    }).Build();
    var services = new ServiceCollection()
        .AddSingleton<IConfiguration>(configuration)
        .AddLogging(logging => logging.AddConsole().SetMinimumLevel(LogLevel.Warning)) // the bench consumer's level
        .AddCloudTasksQueue();
    if (!withLoggers)
    {
        services.ConfigureHttpClientDefaults(client => client.RemoveAllLoggers());
    }

    return services.BuildServiceProvider().GetRequiredService<ITaskQueue>();
}

static ReminderTask Reminder(string id) => new(id, $"c-{id}", "u-1", $"e-{id}", DateTimeOffset.UtcNow.AddHours(2));

// The request bench/Baseline sends: the task JSON written out, one POST, no pipeline.
async Task SeedCreateAsync(string id)
{
    var callback = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"reminder_id\":\"{id}\",\"cart_id\":\"c-{id}\"}}"));
    var body = $"{{\"task\":{{\"name\":\"{QueuePath}/tasks/{id}\",\"scheduleTime\":\"{DateTime.UtcNow.AddHours(2):yyyy-MM-ddTHH:mm:ss.fffffffZ}\","
        + $"\"dispatchDeadline\":\"600s\",\"httpRequest\":{{\"url\":\"http://127.0.0.1:1/tasks/cart-reminder\",\"httpMethod\":\"POST\","
        + $"\"headers\":{{\"Content-Type\":\"application/json\"}},\"body\":\"{callback}\"}}}}}}";
    using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
    content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
    using var response = await seedClient.PostAsync(createUrl, content);
    response.EnsureSuccessStatusCode();
}
