using System.IO.Hashing;
using System.Security.Cryptography;

namespace PulseCart.Consumer.Routing;

/// <summary>
/// Deliveries this process has finished routing, by a fingerprint of the message data, so a redelivery is answered
/// without decoding the event or calling a grain. A fingerprint enters only after every grain the event concerns has
/// durably recorded it, or found that it changes nothing (a <c>cart.updated</c> no newer than the cart's activity, which
/// no write records), so answering "duplicate" from here never acknowledges undone work. Bounded: the oldest are
/// forgotten first, and a forgotten one still meets the grains' own dedup.
/// </summary>
public sealed class RecentlyRouted
{
    public const int Capacity = 200_000;

    private const int ShardCount = 16;

    // Seeded with a secret of this process, so a sender cannot work out offline which other data would share a
    // fingerprint seen before (XxHash128 is fast, not a MAC: its seed raises the bar, push authentication holds it).
    private readonly long _seed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
    private readonly Shard[] _shards = Enumerable.Range(0, ShardCount).Select(_ => new Shard()).ToArray();

    /// <summary>The fingerprint of a message's data: the same bytes always give the same event.</summary>
    public UInt128 Fingerprint(ReadOnlySpan<byte> data) => XxHash128.HashToUInt128(data, _seed);

    /// <summary>True, with the event's type, when a delivery of the same data was routed before.</summary>
    public bool Contains(UInt128 fingerprint, out string eventType)
    {
        var shard = ShardOf(fingerprint);
        lock (shard)
        {
            return shard.Known.TryGetValue(fingerprint, out eventType!);
        }
    }

    public void Add(UInt128 fingerprint, string eventType)
    {
        var shard = ShardOf(fingerprint);
        lock (shard)
        {
            if (!shard.Known.TryAdd(fingerprint, eventType))
            {
                return;
            }

            shard.Order.Enqueue(fingerprint);
            if (shard.Order.Count > Capacity / ShardCount)
            {
                shard.Known.Remove(shard.Order.Dequeue());
            }
        }
    }

    private Shard ShardOf(UInt128 fingerprint) => _shards[(int)((ulong)fingerprint % ShardCount)];

    private sealed class Shard
    {
        public Dictionary<UInt128, string> Known { get; } = new(Capacity / ShardCount + 1);

        public Queue<UInt128> Order { get; } = new(Capacity / ShardCount + 1);
    }
}
