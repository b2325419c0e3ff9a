namespace PulseCart.Consumer.Hosting;

/// <summary>The co-hosted silo (<c>PulseCart:Cluster</c>), kept out of the <c>Orleans</c> section that Orleans reads itself.</summary>
public sealed class SiloOptions
{
    public const string Section = "PulseCart:Cluster";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;
}
