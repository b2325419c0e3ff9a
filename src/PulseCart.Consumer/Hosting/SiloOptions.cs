using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Text.RegularExpressions;

namespace PulseCart.Consumer.Hosting;

/// <summary>How the co-hosted silo finds the other silos of its cluster.</summary>
public enum ClusterMode
{
    /// <summary>A cluster of one on this machine (the default: a laptop, Cloud Run).</summary>
    Localhost,

    /// <summary>Membership in Redis (<c>PulseCart:Redis</c>); every silo advertises <see cref="SiloOptions.AdvertisedIp"/>.</summary>
    Redis,

    /// <summary>Membership in Redis, with name, address and cluster ids taken from the pod (GKE).</summary>
    Kubernetes,
}

/// <summary>
/// The co-hosted silo (<c>PulseCart:Cluster</c>), kept out of the <c>Orleans</c> section that Orleans reads itself.
/// </summary>
public sealed partial class SiloOptions : IValidatableObject
{
    public const string Section = "PulseCart:Cluster";

    /// <summary><c>localhost</c> (default), <c>redis</c> or <c>kubernetes</c>; the last two need <c>PulseCart:Redis</c>.</summary>
    public ClusterMode Mode { get; set; } = ClusterMode.Localhost;

    /// <summary>The port silos talk to each other on.</summary>
    [Range(1, 65535, ErrorMessage = "PulseCart:Cluster:SiloPort must be a TCP port number between 1 and 65535.")]
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port Orleans clients connect to; the consumer has none of its own, but silos advertise it.</summary>
    [Range(1, 65535, ErrorMessage = "PulseCart:Cluster:GatewayPort must be a TCP port number between 1 and 65535.")]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Names the cluster's membership in Redis (<c>redis</c> mode; in <c>kubernetes</c> mode
    /// <c>ORLEANS_CLUSTER_ID</c> wins). Silos with different ids never see each other.
    /// </summary>
    public string ClusterId { get; set; } = "pulsecart";

    /// <summary>
    /// Names the service across deployments (<c>redis</c> mode; in <c>kubernetes</c> mode <c>ORLEANS_SERVICE_ID</c>
    /// wins). Grain state in Redis is keyed by it: changing it hides every cart and order stored before.
    /// </summary>
    public string ServiceId { get; set; } = "pulsecart";

    /// <summary>
    /// The address other silos reach this one at, and listens on, in <c>redis</c> mode: 127.0.0.1 for silos that all
    /// run on one machine, the machine's own address otherwise. In <c>kubernetes</c> mode the pod IP is used instead.
    /// </summary>
    public string AdvertisedIp { get; set; } = "127.0.0.1";

    /// <summary>
    /// Memory use, in percent of what the process may use (the container's limit, else the machine's memory), above
    /// which the silo deactivates its least recently used carts and orders until it is 10 points lower, whatever
    /// their age; 0 turns this off. Their state is in storage already, so a later event only reactivates them.
    /// </summary>
    [Range(0, 95, ErrorMessage = "PulseCart:Cluster:ShedActivationsAbovePercent must be between 0 (off) and 95.")]
    public int ShedActivationsAbovePercent { get; set; } = 80;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enum.IsDefined(Mode))
        {
            yield return new ValidationResult(
                $"PulseCart:Cluster:Mode must be localhost, redis or kubernetes, not '{Mode}'.", [nameof(Mode)]);
        }

        if (SiloPort == GatewayPort)
        {
            yield return new ValidationResult(
                $"PulseCart:Cluster:SiloPort and PulseCart:Cluster:GatewayPort must differ (both are {SiloPort}).",
                [nameof(SiloPort), nameof(GatewayPort)]);
        }

        foreach (var (name, value) in new[] { (nameof(ClusterId), ClusterId), (nameof(ServiceId), ServiceId) })
        {
            // Both become part of Redis keys and Kubernetes label values.
            if (string.IsNullOrEmpty(value) || !IdPattern().IsMatch(value))
            {
                yield return new ValidationResult(
                    $"PulseCart:Cluster:{name} must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, not '{value}'.",
                    [name]);
            }
        }

        // Unspecified addresses cannot be dialled back: another silo needs a real one.
        if (!IPAddress.TryParse(AdvertisedIp, out var address)
            || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.None))
        {
            yield return new ValidationResult(
                $"PulseCart:Cluster:AdvertisedIp must be an IP address other silos can reach this one at, not '{AdvertisedIp}'.",
                [nameof(AdvertisedIp)]);
        }
    }

    /// <summary>
    /// Binds and validates the section now: the silo's clustering is chosen while the host is being built, before
    /// <c>ValidateOnStart</c> would run, so a bad setting must stop the app here with a message naming it.
    /// </summary>
    public static SiloOptions Read(IConfiguration configuration)
    {
        SiloOptions options;
        try
        {
            options = configuration.GetSection(Section).Get<SiloOptions>() ?? new SiloOptions();
        }
        catch (InvalidOperationException exception)
        {
            // The binder's message names the key and the type; say which values are allowed too.
            throw new InvalidOperationException(
                $"{Section} has a value that cannot be read ({exception.Message}). " +
                $"{Section}:Mode is one of localhost, redis, kubernetes; the ports are numbers.",
                exception);
        }

        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            throw new InvalidOperationException(string.Join(" ", results.Select(result => result.ErrorMessage)));
        }

        return options;
    }

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex IdPattern();
}
