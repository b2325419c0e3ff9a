using PulseCart.Consumer.Emulators;
using PulseCart.Consumer.Health;
using PulseCart.Consumer.Hosting;
using PulseCart.Consumer.Ops;
using PulseCart.Consumer.PubSub;
using PulseCart.Consumer.Reminders;
using PulseCart.Consumer.Security;

var builder = WebApplication.CreateBuilder(args);
builder.AddPulseCart();

var app = builder.Build();
app.UsePulseCartSecurity();
app.MapPushEndpoints();
app.MapTaskEndpoints();
app.MapOperatorEndpoints();
app.MapHealthEndpoints();
app.MapEmbeddedCloudTasks();
app.MapEmbeddedPubSub();
app.Run();

public partial class Program;
