using System.Globalization;
using System.Text.RegularExpressions;

namespace PulseCart.Emulators.CloudTasks;

/// <summary>Google's JSON spellings of protobuf <c>Timestamp</c> (RFC 3339) and <c>Duration</c> (<c>"600s"</c>).</summary>
internal static partial class GoogleWireFormat
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
        var seconds = decimal.Divide(value.Ticks, TimeSpan.TicksPerSecond);
        return $"{seconds.ToString("0.#######", CultureInfo.InvariantCulture)}s";
    }

    /// <summary>Seconds since the Unix epoch with a fraction, as in <c>X-CloudTasks-TaskETA</c>.</summary>
    public static string EpochSeconds(DateTimeOffset value) =>
        decimal.Divide(value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, TimeSpan.TicksPerSecond)
            .ToString("0.0######", CultureInfo.InvariantCulture);

    public static bool TryParseTimestamp(string text, out DateTimeOffset value)
    {
        // .NET parses at most seven fractional digits; Google writes up to nine (nanoseconds).
        var trimmed = NanosPattern().Replace(text, match => match.Groups[1].Value);
        return DateTimeOffset.TryParse(
            trimmed,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
            out value) && trimmed.Contains('T', StringComparison.Ordinal);
    }

    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        if (!text.EndsWith('s')
            || !decimal.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(seconds) > 315_576_000_000m)
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)decimal.Round(seconds * TimeSpan.TicksPerSecond));
        return true;
    }

    [GeneratedRegex(@"(\.\d{7})\d+")]
    private static partial Regex NanosPattern();
}
