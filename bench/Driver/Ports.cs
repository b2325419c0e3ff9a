using System.Net;
using System.Net.Sockets;

namespace PulseCart.Bench.Driver;

public static class Ports
{
    /// <summary>Prints distinct free loopback ports, held open together so that none repeats.</summary>
    public static int Print(Arguments arguments)
    {
        var listeners = Enumerable.Range(0, arguments.Number("count")).Select(_ =>
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return listener;
        }).ToList();
        Console.WriteLine(string.Join(' ', listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port)));
        listeners.ForEach(listener => listener.Stop());
        return 0;
    }
}
