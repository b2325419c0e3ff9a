using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using PulseCart.Emulators.Hosting;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>The embedded Cloud Tasks emulator (<c>PulseCart:Emulators:CloudTasks</c>).</summary>
public sealed class CloudTasksEmulatorOptions : IValidatableObject
{
    public const string Section = "PulseCart:Emulators:CloudTasks";

    /// <summary>The queue that exists when none is configured; matches the consumer's local Cloud Tasks settings.</summary>
    public const string DefaultQueueName = "projects/pulsecart-local/locations/local/queues/pulsecart-cart-reminders";

    /// <summary>The queues the emulator serves; empty means just <see cref="DefaultQueueName"/> with Google's defaults.</summary>
    public List<EmulatedQueue> Queues { get; set; } = [];

    /// <summary>How long a task's name stays taken after it ran or was deleted (Cloud Tasks: about an hour).</summary>
    public TimeSpan NameReservation { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Where the REST API is mapped on the host's own port; clients use <c>{host}{PathPrefix}</c> as their Cloud Tasks base
    /// URL. Empty maps it at the root (<c>/v2/…</c>).
    /// </summary>
    public string PathPrefix { get; set; } = "/emulators/cloudtasks";

    /// <summary>The twin's own gRPC port (HTTP/2 without TLS) on <c>PulseCart:Emulators:ListenAddress</c>; 0 turns it off.</summary>
    public int GrpcPort { get; set; } = DefaultGrpcPort;

    /// <summary>The twin's own REST port (HTTP/1.1, the API at the root); 0 turns it off.</summary>
    public int RestPort { get; set; } = DefaultRestPort;

    /// <summary>The port aertje's Cloud Tasks emulator uses, which tools that know a Cloud Tasks emulator expect.</summary>
    public const int DefaultGrpcPort = 8123;

    public const int DefaultRestPort = 8124;

    /// <summary>The configured queues, or the default queue when none are.</summary>
    public IReadOnlyList<EmulatedQueue> EffectiveQueues => Queues.Count == 0 ? [new EmulatedQueue { Name = DefaultQueueName }] : Queues;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (NameReservation < TimeSpan.Zero)
        {
            yield return new ValidationResult($"{Section}:NameReservation must not be negative.", [nameof(NameReservation)]);
        }

        if (EmulatorListeners.PathPrefixProblem(PathPrefix) is { } prefixProblem)
        {
            yield return new ValidationResult($"{Section}:PathPrefix {prefixProblem}", [nameof(PathPrefix)]);
        }

        foreach (var (name, port) in new[] { (nameof(GrpcPort), GrpcPort), (nameof(RestPort), RestPort) })
        {
            if (port is < 0 or > 65535)
            {
                yield return new ValidationResult($"{Section}:{name} must be a TCP port (1-65535), or 0 for none.", [name]);
            }
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < Queues.Count; index++)
        {
            foreach (var problem in Queues[index].Problems())
            {
                yield return new ValidationResult($"{Section}:Queues:{index}:{problem}", [nameof(Queues)]);
            }

            if (!seen.Add(Queues[index].Name))
            {
                yield return new ValidationResult($"{Section}:Queues:{index}:Name repeats queue {Queues[index].Name}.", [nameof(Queues)]);
            }
        }
    }
}

/// <summary>One emulated queue: its full resource name and Cloud Tasks' <c>retryConfig</c> and <c>rateLimits</c>.</summary>
public sealed partial class EmulatedQueue
{
    /// <summary><c>projects/P/locations/L/queues/Q</c>.</summary>
    public string Name { get; set; } = "";

    public QueueRetryConfig RetryConfig { get; set; } = new();

    public QueueRateLimits RateLimits { get; set; } = new();

    /// <summary>
    /// Cloud Tasks' <c>stackdriverLoggingConfig.samplingRatio</c>, 0 to 1: kept and shown, so that tools which set it
    /// read back what they wrote. The twin logs its attempts whatever it says.
    /// </summary>
    public double? LoggingSamplingRatio { get; set; }

    internal IEnumerable<string> Problems()
    {
        if (!QueueNamePattern().IsMatch(Name))
        {
            yield return "Name must look like projects/P/locations/L/queues/Q.";
        }

        var retry = RetryConfig;
        if (retry.MaxAttempts < -1)
        {
            yield return "RetryConfig:MaxAttempts must be -1 (unlimited) or more.";
        }

        if (retry.MaxRetryDuration < TimeSpan.Zero)
        {
            yield return "RetryConfig:MaxRetryDuration must not be negative (0 means unlimited).";
        }

        if (retry.MinBackoff < TimeSpan.Zero || retry.MaxBackoff < retry.MinBackoff)
        {
            yield return "RetryConfig:MinBackoff must not be negative and MaxBackoff must be at least MinBackoff.";
        }

        if (retry.MaxDoublings is < 0 or > 62)
        {
            yield return "RetryConfig:MaxDoublings must be between 0 and 62.";
        }

        if (RateLimits.MaxDispatchesPerSecond is <= 0 or > 500 || double.IsNaN(RateLimits.MaxDispatchesPerSecond))
        {
            yield return "RateLimits:MaxDispatchesPerSecond must be more than 0 and at most 500.";
        }

        if (RateLimits.MaxConcurrentDispatches is < 1 or > 5000)
        {
            yield return "RateLimits:MaxConcurrentDispatches must be between 1 and 5000.";
        }

        if (LoggingSamplingRatio is < 0 or > 1 || LoggingSamplingRatio is double.NaN)
        {
            yield return "LoggingSamplingRatio (stackdriverLoggingConfig.samplingRatio) must be between 0 and 1.";
        }
    }

    [GeneratedRegex("^projects/[A-Za-z0-9.:-]+/locations/[A-Za-z0-9-]+/queues/[A-Za-z0-9-]{1,100}$")]
    internal static partial Regex QueueNamePattern();
}

/// <summary>Cloud Tasks' <c>retryConfig</c>, with Google's defaults.</summary>
public sealed class QueueRetryConfig
{
    /// <summary>Attempts in total, the first included; -1 for unlimited.</summary>
    public int MaxAttempts { get; set; } = 100;

    /// <summary>
    /// How long after the first attempt retries may go on; zero for unlimited. As in Cloud Tasks, a task is dropped only once
    /// every configured limit (attempts and duration) has been reached.
    /// </summary>
    public TimeSpan MaxRetryDuration { get; set; } = TimeSpan.Zero;

    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromSeconds(0.1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(3600);

    public int MaxDoublings { get; set; } = 16;
}

/// <summary>Cloud Tasks' <c>rateLimits</c>, with Google's defaults.</summary>
public sealed class QueueRateLimits
{
    /// <summary>At most this many dispatches start in any one-second window (Cloud Tasks allows up to 500).</summary>
    public double MaxDispatchesPerSecond { get; set; } = 500;

    /// <summary>At most this many dispatches are waiting for their handler at once (Cloud Tasks allows up to 5,000).</summary>
    public int MaxConcurrentDispatches { get; set; } = 1000;
}
