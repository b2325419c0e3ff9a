using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PulseCart.Emulators.CloudTasks;

namespace PulseCart.Consumer.Telemetry;

public static class TelemetryHosting
{
    public const string LogFormatSetting = "PulseCart:Logging:Format";

    public const string LinkTracesSetting = "PulseCart:Logging:LinkTraces";

    // ASP.NET Core starts an activity and a logging scope for every request as soon as this logger is on at any level.
    private const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    private static readonly string[] PerCallInstrumentsNotExported =
    [
        "orleans-app-requests-*", "orleans-messaging-*", "orleans-directory-lookups-*", "orleans-directory-registrations*",
        "aspnetcore.authentication.*", "aspnetcore.authorization.*", "aspnetcore.memory_pool.*", "aspnetcore.routing.*",
    ];

    private const string OrleansWorkingSetGauge = "orleans-catalog-activation-working-set";

    /// <summary>Whether spans go anywhere: only then are they recorded, and grain calls carry the trace context.</summary>
    public static bool ExportsTraces(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>
    /// Metrics for Prometheus at <c>/metrics</c> (ours, Orleans', ASP.NET Core's); when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
    /// is set, OTLP export of those metrics and of a span per push and callback linked to the grain calls; console logs
    /// Cloud Logging can read (<c>PulseCart:Logging:Format</c> = <c>json</c>, the default outside Development, or
    /// <c>text</c>).
    /// </summary>
    public static WebApplicationBuilder AddPulseCartTelemetry(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("pulsecart-consumer"))
            .WithMetrics(metrics =>
            {
                metrics
                    .AddMeter(ConsumerMetrics.MeterName, CloudTasksEmulator.MeterName, "Microsoft.Orleans")
                    .AddAspNetCoreInstrumentation()
                    .AddPrometheusExporter();

                // Instruments measured on every request or grain call that say less than pulsecart.push.* already does:
                // dropped, so nothing listens to them and they cost nothing per event.
                foreach (var perCall in PerCallInstrumentsNotExported)
                {
                    metrics.AddView(perCall, MetricStreamConfiguration.Drop);
                }

                // Counted by Orleans' own working set, which the silo no longer uses (UnscannedWorkingSet): it would read 0.
                metrics.AddView(OrleansWorkingSetGauge, MetricStreamConfiguration.Drop);
            });
        if (ExportsTraces(builder.Configuration))
        {
            // Spans only where they go somewhere: recorded and dropped, they cost a unique event about a fifth of its
            // allocations. Logs carry the request's trace id either way (ASP.NET Core starts that activity itself).
            telemetry
                .WithTracing(tracing => tracing
                    .AddSource(ConsumerMetrics.MeterName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = http => !http.Request.Path.StartsWithSegments("/health")))
                .UseOtlpExporter();
        }

        // The request's activity and scope only serve to put its trace id on log lines. Where no traces are exported
        // and nobody asked for the link or set that category's level, each push is spared them: 1.5-5 us of CPU
        // (bench/README.md, "The request's activity and logging scope"). The category logs request diagnostics and
        // hosting-startup assembly errors; a failed start is still logged by the generic host.
        if (!ExportsTraces(builder.Configuration)
            && !builder.Configuration.GetValue<bool>(LinkTracesSetting)
            && builder.Configuration[$"Logging:LogLevel:{HostingDiagnosticsCategory}"] is null)
        {
            builder.Logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);
        }

        var format = builder.Configuration[LogFormatSetting] ?? (builder.Environment.IsDevelopment() ? "text" : "json");
        switch (format.ToLowerInvariant())
        {
            case "json":
                builder.Logging.AddConsole(console => console.FormatterName = CloudLoggingFormatter.Name);
                builder.Logging.AddConsoleFormatter<CloudLoggingFormatter, CloudLoggingFormatterOptions>(options =>
                    options.ProjectId = builder.Configuration["PulseCart:Logging:ProjectId"]
                        ?? builder.Configuration["GOOGLE_CLOUD_PROJECT"]
                        ?? builder.Configuration["PulseCart:CloudTasks:ProjectId"]);
                break;
            case "text":
                break;
            default:
                throw new InvalidOperationException($"{LogFormatSetting} must be json or text, not '{format}'.");
        }

        return builder;
    }
}
