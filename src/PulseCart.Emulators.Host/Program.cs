using PulseCart.Emulators.CloudTasks;
using PulseCart.Emulators.Hosting;
using PulseCart.Emulators.PubSub;

// Both twins, each on its own gRPC and REST ports (PulseCart:Emulators:*:GrpcPort and RestPort; defaults 8123/8124 for
// Cloud Tasks, 8085/8086 for Pub/Sub), with no consumer: the PulseCart reminders queue unless others are configured, and
// the topics and subscriptions that are configured or created over the APIs.
// A taken port stops the host: a twin that is not where its clients look is of no use.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddCloudTasksEmulator();
builder.Services.AddPubSubEmulator();
builder.Services.AddEmulatorListeners(portsRequired: true);

// The twins' own ports carry everything; this one only answers health checks.
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://127.0.0.1:8090");
var app = builder.Build();
app.MapGet("/health", () => TypedResults.Ok("ok"));
app.Run();
