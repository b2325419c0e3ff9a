using PulseCart.Grains.Messaging;
using PulseCart.Grains.Persistence;

namespace PulseCart.Grains.Tests;

/// <summary>What a busy cart or order remembers stays bounded, and the bound never forgets what protects a business effect.</summary>
public sealed class BoundedBookkeepingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
    private static readonly DedupOptions Dedup = new() { MaxEventIdsPerGrain = 10_000 };

    [Fact]
    public void ABusyGrainRemembersTheNewestIdsUpToItsBound()
    {
        var ids = new ProcessedEventIds();
        for (var i = 0; i < 50_000; i++)
        {
            ids.Remember($"e-{i}", T0.AddMilliseconds(i), Dedup);
        }

        Assert.Equal(10_000, ids.Seen.Count);
        Assert.True(ids.Contains("e-49999"));
        Assert.True(ids.Contains("e-40000"));
        Assert.False(ids.Contains("e-39999"));
    }

    [Fact]
    public void IdsOlderThanTheWindowAreForgottenAndNewerOnesKept()
    {
        var ids = new ProcessedEventIds();
        ids.Remember("old", T0, Dedup);
        ids.Remember("recent", T0 + Dedup.Window - TimeSpan.FromHours(1), Dedup);

        ids.Remember("now", T0 + Dedup.Window + TimeSpan.FromMinutes(1), Dedup);

        Assert.False(ids.Contains("old"));
        Assert.True(ids.Contains("recent"));
        Assert.True(ids.Contains("now"));
    }

    [Fact]
    public void AnEventDatedAheadIsRememberedAsLongAsItsTimeIsAccepted()
    {
        // Handled at T0 but dated five minutes later (within the clock skew): a redelivery stays acceptable until
        // that time plus the window, so the id must not be forgotten before then.
        var ids = new ProcessedEventIds();
        ids.Remember("ahead", T0, Dedup, occurredAt: T0 + TimeSpan.FromMinutes(5));
        ids.Remember("on-time", T0, Dedup, occurredAt: T0);

        ids.Remember("later", T0 + Dedup.Window + TimeSpan.FromMinutes(1), Dedup);

        Assert.True(ids.Contains("ahead"));
        Assert.False(ids.Contains("on-time"));
    }

    [Fact]
    public void ARestoredSetKeepsForgettingOldestFirst()
    {
        var before = new ProcessedEventIds();
        for (var i = 0; i < 10_000; i++)
        {
            before.Remember($"e-{i}", T0.AddSeconds(i), Dedup);
        }

        // As after a reactivation: the same entries in another dictionary, with no memory of their order.
        var restored = new ProcessedEventIds { Seen = new Dictionary<string, DateTimeOffset>(before.Seen.Reverse(), StringComparer.Ordinal) };
        restored.Remember("e-new", T0.AddSeconds(20_000), Dedup);

        Assert.Equal(10_000, restored.Seen.Count);
        Assert.False(restored.Contains("e-0"));
        Assert.True(restored.Contains("e-1"));
        Assert.True(restored.Contains("e-new"));
    }

    [Fact]
    public void TheConfirmationKeyOutlivesAnyNumberOfPerEventMessages()
    {
        var log = new SentMessageLog();
        log.Record(MessageTemplates.OrderConfirmationKey("o-1"), T0);
        for (var i = 0; i < 3 * SentMessageLog.MaxPerEventEntries; i++)
        {
            log.Record(MessageTemplates.PaymentRetryKey($"e-{i}"), T0.AddSeconds(i + 1));
        }

        Assert.True(log.Contains(MessageTemplates.OrderConfirmationKey("o-1")));
        Assert.Equal(SentMessageLog.MaxPerEventEntries + 1, log.Sent.Count);
        Assert.True(log.Contains(MessageTemplates.PaymentRetryKey($"e-{(3 * SentMessageLog.MaxPerEventEntries) - 1}")));
        Assert.False(log.Contains(MessageTemplates.PaymentRetryKey("e-0")));
    }
}
