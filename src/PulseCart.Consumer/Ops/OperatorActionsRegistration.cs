using PulseCart.Consumer.Audit;
using PulseCart.Consumer.Charts;
using PulseCart.Consumer.Pause;
using PulseCart.Google.PubSub;

namespace PulseCart.Consumer.Ops;

public static class OperatorActionsRegistration
{
    /// <summary>
    /// What operators act with: the quarantine actions and bulk jobs, the audit and the pause switch (in Redis when the
    /// quarantine is, so every silo lists the same actions and sees the same switch; else in memory) and the per-minute
    /// series behind the page's charts.
    /// </summary>
    public static IServiceCollection AddOperatorActions(this IServiceCollection services, bool redis)
    {
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (redis)
        {
            services.AddSingleton<IAuditLog, RedisAuditLog>();
            services.AddSingleton<IPauseStore, RedisPauseStore>();
        }
        else
        {
            services.AddSingleton<IAuditLog, InMemoryAuditLog>();
            services.AddSingleton<IPauseStore, InMemoryPauseStore>();
        }

        services.AddSingleton<OperatorAudit>();
        services.AddSingleton<QuarantineActions>();
        services.AddSingleton<QuarantineJobs>();
        services.AddSingleton<OpsCharts>();
        services.AddHostedService<QuarantineSizeSampler>();
        services.AddPushSubscription();
        services.AddSingleton<PauseSwitch>();
        services.AddHostedService<PauseMonitor>();
        return services;
    }
}
