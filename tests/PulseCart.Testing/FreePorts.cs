using System.Net;
using System.Net.Sockets;

namespace PulseCart.Testing;

/// <summary>
/// Free loopback ports for test hosts, never the same one twice in a process. The kernel may hand a port it has just
/// released to the next bind: a silo and gateway port asked for one after the other once came back equal in CI.
/// </summary>
public static class FreePorts
{
    private static readonly HashSet<int> HandedOut = [];

    public static int Next()
    {
        lock (HandedOut)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
