using System.Globalization;
using System.Net;
using System.Text;

namespace PulseCart.Consumer.Charts;

/// <summary>
/// Line charts of the last hour as SVG, drawn by the service itself: no script library, no CDN, nothing the page
/// must fetch from elsewhere. One line per series, a legend with each series' total over the hour.
/// </summary>
public static class SvgChart
{
    private const int Width = 480;
    private const int Height = 200;
    private const int Left = 44;
    private const int Right = 8;
    private const int Top = 26;
    private const int Bottom = 58;

    private static readonly string[] Colours = ["#2f7d32", "#5b6478", "#b58900", "#7f8fa6", "#d35400", "#c0392b", "#8e44ad"];

    /// <summary>
    /// Draws <paramref name="series"/> (oldest minute first; a null is a minute without a value, left out). The legend
    /// gives each series' total over the hour, or for a <paramref name="gauge"/> its latest value.
    /// </summary>
    public static string Render(string id, string title, DateTimeOffset from, IReadOnlyList<(string Name, IReadOnlyList<long?> Values)> series, bool gauge = false)
    {
        var minutes = series.Count == 0 ? MinuteCounters.Minutes : series[0].Values.Count;
        var max = Math.Max(1, series.SelectMany(s => s.Values).Max(v => v ?? 0));
        var top = NiceCeiling(max);
        double X(int minute) => Left + ((Width - Left - Right) * minute / (double)Math.Max(1, minutes - 1));
        double Y(long value) => Top + ((Height - Top - Bottom) * (1 - (value / (double)top)));

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" id="{id}" class="chart" viewBox="0 0 {Width} {Height}" width="{Width}" height="{Height}" role="img" aria-label="{Encode(title)}">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="16" font-size="13" font-weight="600" fill="#1d2433">{Encode(title)}</text>""");
        foreach (var fraction in new[] { 0.0, 0.5, 1.0 })
        {
            var value = (long)Math.Round(top * fraction);
            var y = Y(value);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{Width - Right}" y1="{y:0.#}" y2="{y:0.#}" stroke="#eceef2"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left - 4}" y="{y + 4:0.#}" font-size="10" text-anchor="end" fill="#8a93a6">{value}</text>""");
        }

        var axis = Height - Bottom + 12;
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="{axis}" font-size="10" fill="#8a93a6">{from.ToUniversalTime():HH:mm} UTC</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width - Right}" y="{axis}" font-size="10" text-anchor="end" fill="#8a93a6">now</text>""");

        var (legendX, legendY) = (Left, Height - 28);
        for (var s = 0; s < series.Count; s++)
        {
            var (name, values) = series[s];
            var colour = Colours[s % Colours.Length];
            var points = new StringBuilder();
            for (var i = 0; i < values.Count; i++)
            {
                if (values[i] is { } value)
                {
                    points.Append(CultureInfo.InvariantCulture, $"{X(i):0.#},{Y(value):0.#} ");
                }
            }

            if (points.Length > 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"""<polyline data-series="{Encode(name)}" fill="none" stroke="{colour}" stroke-width="1.6" points="{points.ToString().TrimEnd()}"/>""");
            }

            var label = $"{name} {(gauge ? values.LastOrDefault(v => v is not null) ?? 0 : values.Sum(v => v ?? 0))}";
            var labelWidth = 18 + (label.Length * 6);
            if (legendX + labelWidth > Width - Right)
            {
                (legendX, legendY) = (Left, legendY + 14);
            }

            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{legendX}" y="{legendY}" width="9" height="9" fill="{colour}"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{legendX + 12}" y="{legendY + 8}" font-size="10" fill="#5b6478">{Encode(label)}</text>""");
            legendX += labelWidth;
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="value"/>: round numbers on the axis.</summary>
    private static long NiceCeiling(long value)
    {
        for (long power = 1; ; power *= 10)
        {
            foreach (var step in new[] { 1, 2, 5 })
            {
                if (step * power >= value)
                {
                    return step * power;
                }
            }
        }
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
