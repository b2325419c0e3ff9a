namespace PulseCart.Grains.Persistence;

public static class GrainStorage
{
    /// <summary>The grain storage provider name carts and orders persist to (memory or Redis).</summary>
    public const string Name = "pulsecart";
}
