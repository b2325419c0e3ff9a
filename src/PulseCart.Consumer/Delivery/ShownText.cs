using System.Diagnostics.CodeAnalysis;

namespace PulseCart.Consumer.Delivery;

/// <summary>
/// Text a delivery brings (its message id, the values a reason quotes) cut to a length before it is kept or logged:
/// the quarantine bounds what it holds by the bodies' bytes, so what describes a body must stay small beside it.
/// </summary>
public static class ShownText
{
    /// <summary>The longest message id, subscription, event id or type kept or logged (a subscription's full name is at most ~310).</summary>
    public const int MaxNameChars = 512;

    /// <summary>The longest reason a quarantine entry keeps.</summary>
    public const int MaxReasonChars = 1_024;

    /// <summary>At most <paramref name="maxChars"/> characters of the text, then "…" if any were cut; never half a character.</summary>
    [return: NotNullIfNotNull(nameof(text))]
    public static string? Cut(string? text, int maxChars)
    {
        if (text is null || text.Length <= maxChars)
        {
            return text;
        }

        var keep = char.IsHighSurrogate(text[maxChars - 1]) ? maxChars - 1 : maxChars;
        return string.Concat(text.AsSpan(0, keep), "…");
    }
}
