using System.Diagnostics;
using System.Text.Json;

namespace PulseCart.OfficialClients.Tests.Support;

/// <summary>What a client process printed, and how it ended.</summary>
public sealed record ToolRun(string Command, int ExitCode, string Output, string Errors)
{
    /// <summary>The JSON lines <c>clients.mjs</c> prints, one per step, by step name.</summary>
    public IReadOnlyDictionary<string, JsonElement> Steps =>
        Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith('{'))
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToDictionary(step => step.GetProperty("step").GetString()!);

    public ToolRun Succeeded()
    {
        Assert.True(ExitCode == 0, $"{Command} exited {ExitCode}.\nstdout:\n{Output}\nstderr:\n{Errors}");
        return this;
    }
}

/// <summary>Runs gcloud and node the way a user would, with only the endpoint settings changed.</summary>
public static class Tools
{
    /// <summary>The folder with the pinned Node clients (<c>npm ci</c> there installs them; tests/run.sh does).</summary>
    public static string ClientsFolder
    {
        get
        {
            var folder = Path.Combine(RepositoryRoot, "tests", "official-clients");
            Assert.True(
                Directory.Exists(Path.Combine(folder, "node_modules", "@google-cloud", "tasks")),
                $"The official Node clients are not installed: run `npm ci` in {folder} (tests/run.sh does).");
            return folder;
        }
    }

    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PulseCart.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("PulseCart.sln not found above the test binaries.");
        }
    }

    /// <summary>
    /// gcloud against the twins: endpoint overrides, a dummy access token and a throwaway configuration folder, so nothing
    /// of the user's gcloud setup is read or changed and nothing reaches Google.
    /// </summary>
    public static Task<ToolRun> GcloudAsync(Twins twins, string configFolder, params string[] arguments) =>
        GcloudAsync(twins.TasksRestPort.ToString(System.Globalization.CultureInfo.InvariantCulture), twins.PubSubRestPort.ToString(System.Globalization.CultureInfo.InvariantCulture), configFolder, arguments);

    /// <summary>gcloud against a Pub/Sub twin's REST port only.</summary>
    public static Task<ToolRun> GcloudAsync(string pubSubRestPort, string configFolder, params string[] arguments) =>
        GcloudAsync("0", pubSubRestPort, configFolder, arguments);

    private static Task<ToolRun> GcloudAsync(string tasksRestPort, string pubSubRestPort, string configFolder, string[] arguments) =>
        RunAsync("gcloud", [.. arguments, "--project=pulsecart-local", "--quiet"], new Dictionary<string, string>
        {
            ["CLOUDSDK_CONFIG"] = configFolder,
            ["CLOUDSDK_AUTH_ACCESS_TOKEN"] = "dummy",
            ["CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDTASKS"] = $"http://127.0.0.1:{tasksRestPort}/",
            ["CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB"] = $"http://127.0.0.1:{pubSubRestPort}/",
            ["CLOUDSDK_CORE_DISABLE_PROMPTS"] = "1",
            ["CLOUDSDK_CORE_DISABLE_USAGE_REPORTING"] = "true",
            ["CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK"] = "true",
        });

    /// <summary><c>node clients.mjs SCENARIO MODE</c> with the twins' ports and the given settings in its environment.</summary>
    public static Task<ToolRun> NodeAsync(string scenario, string mode, IReadOnlyDictionary<string, string> environment) =>
        RunAsync("node", [Path.Combine(ClientsFolder, "clients.mjs"), scenario, mode], environment, ClientsFolder);

    public static Dictionary<string, string> NodeEnvironment(int tasksGrpc, int tasksRest, int pubSubGrpc, int pubSubRest) => new()
    {
        ["PROJECT"] = "pulsecart-local",
        ["TASKS_GRPC_PORT"] = tasksGrpc.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["TASKS_REST_PORT"] = tasksRest.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PUBSUB_GRPC_PORT"] = pubSubGrpc.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PUBSUB_REST_PORT"] = pubSubRest.ToString(System.Globalization.CultureInfo.InvariantCulture),

        // What every official Pub/Sub client honours, gRPC mode's only setting.
        ["PUBSUB_EMULATOR_HOST"] = $"127.0.0.1:{pubSubGrpc}",

        // No metadata server on this machine: don't wait for one.
        ["METADATA_SERVER_DETECTION"] = "none",
    };

    private static async Task<ToolRun> RunAsync(string program, string[] arguments, IReadOnlyDictionary<string, string> environment, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? RepositoryRoot,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} ran for more than 90 s.\n{await output}\n{await errors}");
        }

        return new ToolRun($"{program} {string.Join(' ', arguments)}", process.ExitCode, await output, await errors);
    }
}
