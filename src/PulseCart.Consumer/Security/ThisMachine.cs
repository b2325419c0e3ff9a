using System.Net;

namespace PulseCart.Consumer.Security;

/// <summary>
/// Whether a request was sent from this machine to this machine. A loopback address alone is not enough: a web page a
/// developer visits can reach loopback through DNS rebinding, but its requests then name the page's host, not a
/// loopback one.
/// </summary>
public static class ThisMachine
{
    public static bool Sent(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote) && IsLoopbackName(http.Request.Host.Host);

    private static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
