// Benchmark reference, not product: the cheapest ASP.NET Core answer to a push (204, body unread), so the
// load generator's ceiling on this machine shows beside the consumer's and the baseline's figures.
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls($"http://127.0.0.1:{builder.Configuration["PORT"] ?? "8082"}");

var app = builder.Build();
app.MapPost("/consumer/push", () => TypedResults.NoContent());
app.MapGet("/health/ready", () => TypedResults.Ok());
app.Run();
