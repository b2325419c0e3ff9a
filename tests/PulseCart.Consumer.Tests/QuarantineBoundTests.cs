using Microsoft.Extensions.Options;
using PulseCart.Consumer.Quarantine;
using PulseCart.Testing;
using StackExchange.Redis;

namespace PulseCart.Consumer.Tests;

/// <summary>
/// The quarantine's byte bound holds for what operators add too: an edited body is kept beside the original, and an
/// edit that takes the total past the bound evicts the oldest other entries, never the one being edited.
/// </summary>
public sealed class QuarantineBoundTests
{
    private const long MaxBytes = 1 << 20;

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task AnEditPastTheByteBoundEvictsTheOldestOtherEntries(string store)
    {
        await using var redis = store == "redis" ? await RedisServer.StartAsync() : null;
        await using var connection = redis is null ? null : await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var options = Options.Create(new QuarantineOptions { MaxBytes = MaxBytes });
        IQuarantine quarantine = connection is null ? new InMemoryQuarantine(options) : new RedisQuarantine(connection, options);

        var entries = new List<QuarantineEntry>();
        for (var i = 0; i < 3; i++)
        {
            var entry = QuarantineEntry.Create(DateTimeOffset.UtcNow, "push", "unusable", null, null, null, null, new byte[300_000]);
            await quarantine.AddAsync(entry);
            entries.Add(entry);
        }

        // The oldest entry gets a 400 KB fix: 1.3 MB held against a 1 MiB bound.
        var oldest = entries[0];
        var edited = await quarantine.UpdateAsync(oldest.Id, current => current with
        {
            EditedAt = DateTimeOffset.UtcNow,
            EditedBy = "operator",
            EditedBody = new byte[400_000],
        });

        Assert.NotNull(edited);
        var stats = quarantine.Stats()!;
        Assert.True(stats.Bytes <= MaxBytes, $"{stats.Bytes} bytes held");
        Assert.Equal(1, stats.Evicted);
        var kept = await quarantine.ListAsync(0, 10);
        Assert.Equal([entries[2].Id, oldest.Id], kept.Select(entry => entry.Id));
        Assert.Equal(400_000, (await quarantine.GetAsync(oldest.Id))!.EditedBody.Length);
        Assert.Equal(300_000 + 300_000 + 400_000, stats.Bytes);
    }
}
