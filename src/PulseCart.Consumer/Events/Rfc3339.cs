namespace PulseCart.Consumer.Events;

/// <summary>
/// RFC 3339 date-times with an explicit offset (<c>2026-11-22T10:00:00Z</c>, <c>…T10:00:00.123456789+01:00</c>) and
/// nothing else: no bare dates, no times without a date, no local times, no culture-dependent forms. A looser parser
/// reads <c>"10:00"</c> as today, so one event redelivered on another day would get another time.
/// </summary>
public static class Rfc3339
{
    public static bool TryParse(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        value = default;

        // yyyy-MM-ddTHH:mm:ss, then an optional fraction, then Z or ±HH:mm.
        if (text.Length < 20
            || !Digits(text, 0, 4, out var year) || text[4] != '-'
            || !Digits(text, 5, 2, out var month) || text[7] != '-'
            || !Digits(text, 8, 2, out var day) || text[10] is not ('T' or 't')
            || !Digits(text, 11, 2, out var hour) || text[13] != ':'
            || !Digits(text, 14, 2, out var minute) || text[16] != ':'
            || !Digits(text, 17, 2, out var second))
        {
            return false;
        }

        var position = 19;
        long fractionTicks = 0;
        if (text[position] == '.')
        {
            position++;
            var start = position;
            var scale = TimeSpan.TicksPerSecond;
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                // Ticks are 100 ns: digits past the seventh are read and dropped.
                scale /= 10;
                fractionTicks += (text[position] - '0') * scale;
                position++;
            }

            if (position == start)
            {
                return false;
            }
        }

        if (!Offset(text[position..], out var offset)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fractionTicks);
        var utcTicks = local.Ticks - offset.Ticks;
        if (utcTicks < DateTimeOffset.MinValue.UtcTicks || utcTicks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        value = new DateTimeOffset(local, offset);
        return true;
    }

    private static bool Offset(ReadOnlySpan<char> text, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (text is ['Z' or 'z'])
        {
            return true;
        }

        if (text.Length != 6 || text[0] is not ('+' or '-') || text[3] != ':'
            || !Digits(text, 1, 2, out var hours) || !Digits(text, 4, 2, out var minutes) || hours > 23 || minutes > 59)
        {
            return false;
        }

        offset = new TimeSpan(hours, minutes, 0);
        if (text[0] == '-')
        {
            offset = -offset;
        }

        // .NET represents offsets up to ±14 hours, the widest any time zone uses.
        return offset.Duration() <= TimeSpan.FromHours(14);
    }

    private static bool Digits(ReadOnlySpan<char> text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                return false;
            }

            value = value * 10 + (text[i] - '0');
        }

        return true;
    }
}
