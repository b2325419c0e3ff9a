using System.Diagnostics;
using StackExchange.Redis;

namespace PulseCart.Testing;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, in a scratch directory, for as long as a test needs it.
/// It can be stopped and started again on the same port to simulate an outage.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pulsecart-redis-").FullName;
    private Process? _process;

    private RedisServer(int port)
    {
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000";

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FreePorts.Next());
        await server.StartAgainAsync();
        return server;
    }

    public async Task StartAgainAsync()
    {
        var executable = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", _directory, "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException("redis-server is not installed; run the README's test command, which installs it", exception);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},connectTimeout=500");
                await connection.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Stops (<c>SIGSTOP</c>) or continues (<c>SIGCONT</c>) the server: a Redis that hangs without closing connections.</summary>
    public void Hang(bool hang)
    {
        using var signal = Process.Start("kill", [hang ? "-STOP" : "-CONT", _process!.Id.ToString()]);
        signal.WaitForExit();
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async Task FlushAsync()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},allowAdmin=true");
        await connection.GetServer($"127.0.0.1:{Port}").FlushAllDatabasesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
