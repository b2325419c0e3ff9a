using PulseCart.Consumer.Hosting;

namespace PulseCart.Consumer.Tests;

public sealed class IdleMemoryTrimmerTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void CollectsOnceWhenABurstEndsAndLeavesAnIdleOrSmallProcessAlone()
    {
        var allocated = 0L;
        var watch = new QuietWatch(allocated);
        bool Tick(long allocatedMiB, long committedMiB) => watch.ShouldTrim(allocated += allocatedMiB * MiB, committedMiB * MiB);

        Assert.False(Tick(allocatedMiB: 2, committedMiB: 3000)); // idle since start: nothing was freed
        Assert.False(Tick(allocatedMiB: 900, committedMiB: 3000)); // under load: the GC runs anyway
        Assert.False(Tick(allocatedMiB: 700, committedMiB: 4000));
        Assert.True(Tick(allocatedMiB: 3, committedMiB: 4000)); // the burst is over
        Assert.False(Tick(allocatedMiB: 1, committedMiB: 300)); // still quiet: once is enough
        Assert.False(Tick(allocatedMiB: 0, committedMiB: 300));
        Assert.False(Tick(allocatedMiB: 50, committedMiB: 200));
        Assert.False(Tick(allocatedMiB: 1, committedMiB: 200)); // quiet again, but too little to be worth a pause
        Assert.False(Tick(allocatedMiB: 80, committedMiB: 900));
        Assert.True(Tick(allocatedMiB: 0, committedMiB: 900));
    }
}
