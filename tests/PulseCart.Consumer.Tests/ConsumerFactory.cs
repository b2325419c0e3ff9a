using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PulseCart.Testing;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The consumer in-process, with its silo on free ports and messages appended to a file the test reads back,
/// so a test sees exactly what a user of the <c>file</c> sink would.
/// </summary>
public sealed class ConsumerFactory : WebApplicationFactory<Program>
{
    /// <summary>The operator bearer token every test client carries; configuration holds only its SHA-256.</summary>
    public const string OperatorToken = "test-operator-token";

    private readonly Dictionary<string, string?> _settings;

    private readonly Action<IServiceCollection>? _services;

    public ConsumerFactory(IDictionary<string, string?>? settings = null, string? messagesFile = null, Action<IServiceCollection>? services = null)
    {
        _services = services;
        // Real Kestrel on a free loopback port: the embedded Cloud Tasks emulator calls the consumer back over HTTP.
        Port = FreePorts.Next();
        UseKestrel(Port);
        MessagesFile = messagesFile ?? Path.Combine(Directory.CreateTempSubdirectory("pulsecart-messages-").FullName, "messages.jsonl");
        _settings = new Dictionary<string, string?>
        {
            ["urls"] = $"http://127.0.0.1:{Port}",
            ["PulseCart:Messaging:Sink"] = "file",
            ["PulseCart:Messaging:FilePath"] = MessagesFile,
            ["PulseCart:Cluster:SiloPort"] = FreePorts.Next().ToString(),
            ["PulseCart:Cluster:GatewayPort"] = FreePorts.Next().ToString(),
            ["Logging:LogLevel:Orleans"] = "Warning",
            ["PulseCart:Operators:TokenSha256"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(OperatorToken))),

            // The twins' own ports (8085, 8123, …) are for a laptop; parallel test hosts would race for them.
            ["PulseCart:Emulators:PubSub:GrpcPort"] = "0",
            ["PulseCart:Emulators:PubSub:RestPort"] = "0",
            ["PulseCart:Emulators:CloudTasks:GrpcPort"] = "0",
            ["PulseCart:Emulators:CloudTasks:RestPort"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string MessagesFile { get; }

    public int Port { get; }

    /// <summary>Everything the consumer logged, to check what it never logs.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>Every message line the file sink wrote, parsed.</summary>
    public IReadOnlyList<JsonElement> SentMessages()
    {
        if (!File.Exists(MessagesFile))
        {
            return [];
        }

        using var stream = new FileStream(MessagesFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd()
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToList();
    }

    public IReadOnlyList<JsonElement> SentWithKey(string idempotencyKey) =>
        SentMessages().Where(message => message.GetProperty("idempotency_key").GetString() == idempotencyKey).ToList();

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorToken);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_settings.GetValueOrDefault("environment") ?? "Development");
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
