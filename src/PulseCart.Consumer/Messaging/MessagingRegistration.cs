using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PulseCart.Consumer.Telemetry;
using PulseCart.Grains.Messaging;

namespace PulseCart.Consumer.Messaging;

public static class MessagingRegistration
{
    /// <summary>Registers the <see cref="IMessageSender"/> that <c>PulseCart:Messaging:Sink</c> selects.</summary>
    public static IServiceCollection AddPulseCartMessaging(this IServiceCollection services)
    {
        services.AddOptions<MessagingOptions>()
            .BindConfiguration(MessagingOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton<LogMessageSender>();
        services.AddSingleton<FileMessageSender>();
        services.AddHttpClient<WebhookMessageSender>(http => http.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<IMessageSender>(provider => new ObservedMessageSender(
            provider.GetRequiredService<IOptions<MessagingOptions>>().Value.Sink switch
            {
                MessageSink.File => provider.GetRequiredService<FileMessageSender>(),
                MessageSink.Webhook => provider.GetRequiredService<WebhookMessageSender>(),
                _ => provider.GetRequiredService<LogMessageSender>(),
            },
            provider.GetRequiredService<ConsumerMetrics>(),
            provider.GetRequiredService<RecentActivity>()));
        return services;
    }
}
