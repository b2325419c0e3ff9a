using System.Globalization;

namespace PulseCart.Google.CloudTasks;

/// <summary>Google's JSON spellings of protobuf <c>Timestamp</c> (RFC 3339, UTC) and <c>Duration</c> (<c>"600s"</c>).</summary>
internal static class GoogleWireFormat
{
    public static string Timestamp(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        var fraction = utc.Ticks % TimeSpan.TicksPerSecond;
        var seconds = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return fraction == 0
            ? $"{seconds}Z"
            : $"{seconds}.{fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0')}Z";
    }

    public static string Duration(TimeSpan value)
    {
        var seconds = value.Ticks / TimeSpan.TicksPerSecond;
        var fraction = value.Ticks % TimeSpan.TicksPerSecond;
        return fraction == 0
            ? $"{seconds.ToString(CultureInfo.InvariantCulture)}s"
            : $"{seconds.ToString(CultureInfo.InvariantCulture)}.{fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0')}s";
    }
}
