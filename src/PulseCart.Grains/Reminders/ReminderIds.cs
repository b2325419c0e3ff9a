using System.Security.Cryptography;
using System.Text;

namespace PulseCart.Grains.Reminders;

public static class ReminderIds
{
    /// <summary>
    /// A deterministic id for the reminder an abandonment causes: a redelivered event maps to the same task,
    /// and the hash spreads task names, as Cloud Tasks prefers over sequential ids.
    /// </summary>
    public static string For(string cartId, string abandonEventId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{cartId}\n{abandonEventId}"));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}
