using System.Security.Cryptography;
using System.Text;

namespace PulseCart.Consumer.Quarantine;

/// <summary>
/// A reason with what varies between deliveries taken out, so that one cause makes one group: quoted values become
/// <c>'…'</c>, and any word holding a digit (ids, numbers, timestamps, positions) becomes <c>…</c>.
/// <c>occurred_at 2026-11-22T10:00:00Z is older than PulseCart:Events:MaxAge allows (earliest 2026-11-14T10:00:00Z)</c>
/// reads <c>occurred_at … is older than PulseCart:Events:MaxAge allows (earliest …)</c>. Words of the consumer's own
/// reasons that hold a digit (<c>base64</c>, <c>UTF-8</c>, <c>RFC 3339</c>) stay.
/// </summary>
public static class QuarantineCauses
{
    public const string Placeholder = "…";

    private static readonly HashSet<string> Vocabulary = new(["base64", "UTF-8", "3339"], StringComparer.Ordinal);

    public static string Normalise(string reason)
    {
        var text = new StringBuilder(reason.Length);
        var i = 0;
        while (i < reason.Length)
        {
            var c = reason[i];
            if (IsQuote(c) && (i == 0 || !char.IsLetterOrDigit(reason[i - 1])) && reason.IndexOf(c, i + 1) is var close and > 0)
            {
                // A quote opens only where a word does not go on (the apostrophe in "cart's" is no quote).
                text.Append(c).Append(Placeholder).Append(c);
                i = close + 1;
            }
            else if (IsWordCharacter(c))
            {
                var end = i;
                while (end < reason.Length && IsWordCharacter(reason[end]))
                {
                    end++;
                }

                // Punctuation that ends a sentence or a label belongs to the text around the word.
                var wordEnd = end;
                while (wordEnd > i && reason[wordEnd - 1] is '.' or ':' or ',' or ';' or '-' or '+' or '/')
                {
                    wordEnd--;
                }

                var word = reason.AsSpan(i, wordEnd - i);
                text.Append(word.IndexOfAnyInRange('0', '9') >= 0 && !Vocabulary.Contains(word.ToString()) ? Placeholder : word);
                text.Append(reason.AsSpan(wordEnd, end - wordEnd));
                i = end;
            }
            else
            {
                text.Append(c);
                i++;
            }
        }

        return text.ToString();
    }

    /// <summary>A short stable name for a normalised reason, for URLs and filters.</summary>
    public static string Key(string cause) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(cause)).AsSpan(0, 8));

    private static bool IsQuote(char c) => c is '\'' or '"' or '`';

    private static bool IsWordCharacter(char c) => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or ':' or '+' or '/' or '@' or '$';
}
