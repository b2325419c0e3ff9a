using System.Reflection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Dashboard;

namespace PulseCart.Consumer.Ops;

/// <summary>The Orleans Dashboard (<c>PulseCart:Dashboard</c>), served at <c>/dashboard</c> behind the operator policy.</summary>
public sealed class DashboardSettings
{
    public const string Section = "PulseCart:Dashboard";

    public bool Enabled { get; set; } = true;

    /// <summary>The dashboard's trace stream shows the silo's logs to whoever watches: off unless asked for.</summary>
    public bool HideTrace { get; set; } = true;

    /// <summary>
    /// How often the dashboard samples the silo's counters and Orleans' instruments. One of those instruments locks
    /// every activation to count its queued requests: sampled once a second, the dashboard's default, it took 3-4 % of
    /// the CPU under the sessions load (a profile with ~300,000 carts and orders in memory), and more with more.
    /// </summary>
    public TimeSpan CounterUpdateInterval { get; set; } = TimeSpan.FromSeconds(10);

    public static DashboardSettings From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<DashboardSettings>() ?? new DashboardSettings();
}

public static class DashboardHosting
{
    public static WebApplicationBuilder AddPulseCartDashboard(this WebApplicationBuilder builder)
    {
        var settings = DashboardSettings.From(builder.Configuration);
        if (settings.Enabled)
        {
            var milliseconds = (int)Math.Max(1_000, settings.CounterUpdateInterval.TotalMilliseconds);
            builder.UseOrleans(silo =>
            {
                silo.AddDashboard(options =>
                {
                    options.HideTrace = settings.HideTrace;
                    options.CounterUpdateIntervalMs = milliseconds;
                });
                SampleInstrumentsEvery(silo.Services, milliseconds);
            });
        }

        return builder;
    }

    /// <summary>
    /// Orleans.Dashboard 10.4.2 reads Orleans' instruments on a metric reader of its own once a second, whatever
    /// <c>CounterUpdateIntervalMs</c> says; the interval is an internal setting of its <c>DashboardHost</c>. The host is
    /// built here with that setting at the counters' interval. Should a later version drop the setting, the dashboard
    /// is left as it comes (a test says so).
    /// </summary>
    private static void SampleInstrumentsEvery(IServiceCollection services, int milliseconds)
    {
        var registration = services.FirstOrDefault(service =>
            service.ServiceType.FullName == "Orleans.Dashboard.DashboardHost" && service.ImplementationType is not null);
        var exportInterval = registration?.ServiceType.GetProperty("ExportIntervalMilliseconds", BindingFlags.Instance | BindingFlags.NonPublic);
        if (registration is null || exportInterval?.PropertyType != typeof(int) || !exportInterval.CanWrite)
        {
            return;
        }

        services.Replace(ServiceDescriptor.Singleton(registration.ServiceType, provider =>
        {
            var host = ActivatorUtilities.CreateInstance(provider, registration.ImplementationType!);
            exportInterval.SetValue(host, milliseconds);
            return host;
        }));
    }

    public static IEndpointRouteBuilder MapPulseCartDashboard(this IEndpointRouteBuilder operators, IConfiguration configuration)
    {
        if (DashboardSettings.From(configuration).Enabled)
        {
            operators.MapOrleansDashboard(routePrefix: "/dashboard");
        }

        return operators;
    }
}
