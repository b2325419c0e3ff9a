using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using PulseCart.Testing;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The consumer in-process, with its silo on free ports and messages appended to a file the test reads back,
/// so a test sees exactly what a user of the <c>file</c> sink would.
/// </summary>
public sealed class ConsumerFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public ConsumerFactory(IDictionary<string, string?>? settings = null, string? messagesFile = null)
    {
        MessagesFile = messagesFile ?? Path.Combine(Directory.CreateTempSubdirectory("pulsecart-messages-").FullName, "messages.jsonl");
        _settings = new Dictionary<string, string?>
        {
            ["PulseCart:Messaging:Sink"] = "file",
            ["PulseCart:Messaging:FilePath"] = MessagesFile,
            ["PulseCart:Cluster:SiloPort"] = RedisServer.FreePort().ToString(),
            ["PulseCart:Cluster:GatewayPort"] = RedisServer.FreePort().ToString(),
            ["Logging:LogLevel:Orleans"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string MessagesFile { get; }

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

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
