namespace PulseCart.Consumer.Charts;

/// <summary>
/// Counts per minute over the last hour for a fixed set of named series, on the hot path of every delivery: one fixed
/// array of slots, each a 64-bit word holding the minute (high half) and its count (low half). Counting is one
/// <see cref="Interlocked.Increment(ref long)"/> while the slot holds the current minute, and one compare-exchange to
/// start a new minute in it: no lock, no allocation. Exact, save that an increment racing the minute's turn may land
/// in the new minute.
/// </summary>
public sealed class MinuteCounters(TimeProvider time, params string[] names)
{
    public const int Minutes = 60;

    private readonly long[] _slots = new long[names.Length * Minutes];

    public IReadOnlyList<string> Names => names;

    /// <summary>Counts one for the series named <paramref name="name"/>; a name outside the set is not counted.</summary>
    public void Increment(string name)
    {
        var series = Array.IndexOf(names, name);
        if (series < 0)
        {
            return;
        }

        var minute = MinuteOf(time.GetUtcNow());
        ref var slot = ref _slots[(series * Minutes) + (int)(minute % Minutes)];
        while (true)
        {
            var seen = Volatile.Read(ref slot);
            if (seen >> 32 == minute)
            {
                Interlocked.Increment(ref slot);
                return;
            }

            if (Interlocked.CompareExchange(ref slot, (minute << 32) | 1, seen) == seen)
            {
                return;
            }
        }
    }

    /// <summary>Each series' counts for the last <see cref="Minutes"/> minutes, oldest first, ending with the current one.</summary>
    public IReadOnlyDictionary<string, long[]> LastHour(DateTimeOffset now)
    {
        var current = MinuteOf(now);
        var series = new Dictionary<string, long[]>(names.Length);
        for (var s = 0; s < names.Length; s++)
        {
            var counts = new long[Minutes];
            for (var i = 0; i < Minutes; i++)
            {
                var minute = current - Minutes + 1 + i;
                var seen = Volatile.Read(ref _slots[(s * Minutes) + (int)(minute % Minutes)]);
                counts[i] = seen >> 32 == minute ? seen & uint.MaxValue : 0;
            }

            series[names[s]] = counts;
        }

        return series;
    }

    public static long MinuteOf(DateTimeOffset at) => at.ToUnixTimeSeconds() / 60;
}

/// <summary>A value sampled now and then, the last sample of each minute kept for an hour; minutes without one stay empty.</summary>
public sealed class MinuteGauge
{
    private readonly long[] _slots = new long[MinuteCounters.Minutes];

    public void Set(DateTimeOffset at, long value)
    {
        var minute = MinuteCounters.MinuteOf(at);
        Volatile.Write(ref _slots[minute % MinuteCounters.Minutes], (minute << 32) | Math.Clamp(value, 0, uint.MaxValue));
    }

    /// <summary>The last hour's samples, oldest first; null where no sample was taken.</summary>
    public long?[] LastHour(DateTimeOffset now)
    {
        var current = MinuteCounters.MinuteOf(now);
        var values = new long?[MinuteCounters.Minutes];
        for (var i = 0; i < values.Length; i++)
        {
            var minute = current - MinuteCounters.Minutes + 1 + i;
            var seen = Volatile.Read(ref _slots[minute % MinuteCounters.Minutes]);
            values[i] = seen >> 32 == minute ? seen & uint.MaxValue : null;
        }

        return values;
    }
}
