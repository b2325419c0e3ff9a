using PulseCart.Consumer.Health;
using PulseCart.Consumer.Hosting;
using PulseCart.Consumer.Ops;
using PulseCart.Consumer.PubSub;

var builder = WebApplication.CreateBuilder(args);
builder.AddPulseCart();

var app = builder.Build();
app.MapPushEndpoints();
app.MapOpsEndpoints();
app.MapHealthEndpoints();
app.Run();

public partial class Program;
