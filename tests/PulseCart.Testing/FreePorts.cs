using System.Net;
using System.Net.Sockets;

namespace PulseCart.Testing;

/// <summary>
/// Free loopback ports for test hosts, never the same one twice in a process. They are picked at random below the
/// kernel's ephemeral range: a port the kernel handed out and took back is soon the local end of some outgoing
/// connection (test assemblies run side by side and open many), and CI once saw a silo fail to bind one that way.
/// </summary>
public static class FreePorts
{
    private static readonly HashSet<int> HandedOut = [];

    public static int Next()
    {
        var (low, high) = BelowEphemeralRange();
        lock (HandedOut)
        {
            while (true)
            {
                var port = Random.Shared.Next(low, high);
                if (!HandedOut.Contains(port) && CanBind(port))
                {
                    HandedOut.Add(port);
                    return port;
                }
            }
        }
    }

    private static (int Low, int High) BelowEphemeralRange()
    {
        const string rangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        var ephemeralLow = 32768;
        if (File.Exists(rangeFile) && int.TryParse(File.ReadAllText(rangeFile).Split('\t', ' ')[0], out var low))
        {
            ephemeralLow = low;
        }

        return ephemeralLow > 12000 ? (10000, ephemeralLow) : (1024, ephemeralLow);
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
