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
    /// How often the dashboard samples the silo's counters. Each sample walks every activation, so with many carts in
    /// memory a once-a-second sample cost ~3 % of the CPU under load (a profile of the sessions load); the dashboard's
    /// default is 1 s.
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
            builder.UseOrleans(silo => silo.AddDashboard(options =>
            {
                options.HideTrace = settings.HideTrace;
                options.CounterUpdateIntervalMs = (int)Math.Max(1_000, settings.CounterUpdateInterval.TotalMilliseconds);
            }));
        }

        return builder;
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
