using PulseCart.Bench.Baseline;
using StackExchange.Redis;

// The seed design ported to ASP.NET Core + StackExchange.Redis, as the benchmarks' comparison. NOT PRODUCT CODE.
// It keeps the seed's race on purpose: "GET processed:{event_id}; send; SET processed:{event_id}" lets concurrent
// deliveries of one event all pass the GET and all send. Same settings names as the consumer, so run.sh starts both alike.
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls($"http://127.0.0.1:{builder.Configuration["PORT"] ?? "8081"}");

var redis = ConfigurationOptions.Parse(builder.Configuration["PulseCart:Redis"] ?? "127.0.0.1:6379");
redis.AbortOnConnectFail = false;
var filePath = builder.Configuration["PulseCart:Messaging:FilePath"] ?? "baseline-messages.jsonl";
builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(new MessageFile(filePath));
builder.Services.AddSingleton<ReminderTasks>();
builder.Services.AddSingleton<SeedHandler>();

var app = builder.Build();
// Connect before the first request, as the consumer's silo does, so readiness means Redis answers.
app.Services.GetRequiredService<IConnectionMultiplexer>();
app.MapPost("/consumer/push", (HttpContext http, SeedHandler handler) => handler.HandleAsync(http));
app.MapGet("/health/ready", async (IConnectionMultiplexer connection) =>
{
    await connection.GetDatabase().PingAsync();
    return TypedResults.Ok();
});
app.Run();
