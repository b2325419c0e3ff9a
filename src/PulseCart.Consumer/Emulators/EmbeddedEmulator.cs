using PulseCart.Consumer.Security;
using PulseCart.Emulators.Hosting;

namespace PulseCart.Consumer.Emulators;

/// <summary>What the embedded Cloud Tasks and Pub/Sub emulators share in how the consumer hosts them.</summary>
internal static class EmbeddedEmulator
{
    /// <summary>
    /// An endpoint filter that serves only callers on this machine: nobody else may make the consumer call out or
    /// push to itself. <paramref name="name"/> names the emulator in the 403.
    /// </summary>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> LoopbackOnly(string name) =>
        (context, next) => ThisMachine.Sent(context.HttpContext)
            ? next(context)
            : ValueTask.FromResult<object?>(TypedResults.Problem($"the embedded {name} emulator serves this machine only", statusCode: StatusCodes.Status403Forbidden));

    /// <summary>
    /// Also serves the embedded twins on their own ports (gRPC and REST at the root, where the official clients look), as
    /// long as those ports are free: a laptop may already run Google's emulator on 8085, and a taken port only costs that
    /// listener, with a warning.
    /// </summary>
    public static void AddOwnPorts(IServiceCollection services) => services.AddEmulatorListeners(portsRequired: false);

    /// <summary>Adds each default the configuration does not already set.</summary>
    public static void SetDefaults(IConfigurationManager configuration, Dictionary<string, string?> defaults)
    {
        var missing = defaults.Where(setting => string.IsNullOrWhiteSpace(configuration[setting.Key])).ToDictionary();
        configuration.AddInMemoryCollection(missing);
    }
}
