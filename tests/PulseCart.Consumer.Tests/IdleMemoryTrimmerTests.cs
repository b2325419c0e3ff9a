using PulseCart.Consumer.Hosting;

namespace PulseCart.Consumer.Tests;

public sealed class IdleMemoryTrimmerTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void CollectsWhileIdleAfterABurstAndLeavesLoadedOrSettledProcessesAlone()
    {
        long deliveries = 0, allocated = 0;
        var watch = new QuietWatch(deliveries, allocated);
        bool Check(long newDeliveries, long allocatedMiB, long committedMiB) =>
            watch.ShouldTrim(deliveries += newDeliveries, allocated += allocatedMiB * MiB, committedMiB * MiB);

        Assert.False(Check(newDeliveries: 0, allocatedMiB: 40, committedMiB: 150)); // started, idle, small
        Assert.False(Check(newDeliveries: 150_000, allocatedMiB: 6_000, committedMiB: 3_000)); // under load: the GC runs anyway
        Assert.False(Check(newDeliveries: 150_000, allocatedMiB: 6_000, committedMiB: 4_000));
        Assert.True(Check(newDeliveries: 0, allocatedMiB: 10, committedMiB: 4_000)); // the burst is over
        Assert.False(Check(newDeliveries: 0, allocatedMiB: 5, committedMiB: 3_800)); // nothing new to collect
        Assert.True(Check(newDeliveries: 0, allocatedMiB: 700, committedMiB: 4_100)); // grains deactivating: their garbage
        Assert.False(Check(newDeliveries: 0, allocatedMiB: 2, committedMiB: 600)); // settled
        Assert.False(Check(newDeliveries: 0, allocatedMiB: 2, committedMiB: 600));
        Assert.False(Check(newDeliveries: 3, allocatedMiB: 80, committedMiB: 600)); // a few pushes: not idle
        Assert.False(Check(newDeliveries: 0, allocatedMiB: 1, committedMiB: 200)); // idle, garbage, but too small to matter
    }
}
