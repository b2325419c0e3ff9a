using System.Diagnostics;
using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Telemetry;

/// <summary>
/// The quarantine's figures for the gauges: read again when older than two seconds, one read at a time, and waited for
/// at most half a second. A scrape must answer within its timeout (10 s on GKE) even while Redis hangs, or every other
/// series is lost with it; meanwhile the gauges report the last figures read.
/// </summary>
internal sealed class LatestQuarantineStats(IQuarantine quarantine)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(500);

    private volatile QuarantineStats? _latest;
    private long _readAt = long.MinValue;
    private int _reading;

    public QuarantineStats? Get()
    {
        if ((Interlocked.Read(ref _readAt) == long.MinValue || Stopwatch.GetElapsedTime(Interlocked.Read(ref _readAt)) > MaxAge) && Interlocked.Exchange(ref _reading, 1) == 0)
        {
            // Stats() of the Redis quarantine blocks on its round trip: on a pool thread, not the scrape's.
            Task.Run(Read).Wait(MaxWait);
        }

        return _latest;
    }

    private void Read()
    {
        try
        {
            _latest = quarantine.Stats() ?? _latest;
            Interlocked.Exchange(ref _readAt, Stopwatch.GetTimestamp());
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }
}
