using Microsoft.Extensions.Time.Testing;
using PulseCart.Consumer.Charts;
using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Tests;

public sealed class QuarantineCausesTests
{
    [Theory]
    [InlineData(
        "occurred_at 2026-11-22T10:00:00.0000000+00:00 is older than PulseCart:Events:MaxAge allows (earliest 2026-11-14T10:00:00.0000000+00:00)",
        "occurred_at 2025-01-02T03:04:05.0000000+00:00 is older than PulseCart:Events:MaxAge allows (earliest 2026-11-14T11:00:00.0000000+00:00)",
        "occurred_at … is older than PulseCart:Events:MaxAge allows (earliest …)")]
    [InlineData(
        "event is not valid JSON: 'x' is an invalid start of a value. LineNumber: 0 | BytePositionInLine: 0.",
        "event is not valid JSON: 'h' is an invalid start of a value. LineNumber: 3 | BytePositionInLine: 17.",
        "event is not valid JSON: '…' is an invalid start of a value. LineNumber: … | BytePositionInLine: ….")]
    [InlineData(
        "event_version \"beta\" is not supported (expected 1)",
        "event_version \"2.0-rc\" is not supported (expected 1)",
        "event_version \"…\" is not supported (expected …)")]
    [InlineData(
        "failed deterministically, so a retry would fail again: InvalidOperationException: cart c-9f8e2 has no order o-17",
        "failed deterministically, so a retry would fail again: InvalidOperationException: cart c-0001 has no order o-2",
        "failed deterministically, so a retry would fail again: InvalidOperationException: cart … has no order …")]
    [InlineData(
        "reminder dead-lettered: the cart's webhook answered 500",
        "reminder dead-lettered: the cart's webhook answered 503",
        "reminder dead-lettered: the cart's webhook answered …")]
    public void ReasonsThatDifferOnlyInIdsNumbersAndQuotedValuesHaveOneCause(string one, string other, string cause)
    {
        Assert.Equal(cause, QuarantineCauses.Normalise(one));
        Assert.Equal(cause, QuarantineCauses.Normalise(other));
        Assert.Equal(QuarantineCauses.Key(QuarantineCauses.Normalise(one)), QuarantineCauses.Key(QuarantineCauses.Normalise(other)));
    }

    [Theory]
    [InlineData("message.data is not valid base64")]
    [InlineData("event is not valid UTF-8")]
    [InlineData("occurred_at is missing or not an RFC 3339 timestamp with an offset")]
    public void TheConsumersOwnWordsStayEvenWithADigit(string reason) => Assert.Equal(reason, QuarantineCauses.Normalise(reason));

    [Fact]
    public void DifferentCausesStayApart()
    {
        var causes = new[] { "user_id is missing: a reminder needs a recipient", "user_id is missing: a confirmation needs a recipient", "payload.cart_id is missing", "payload.order_id is missing" }
            .Select(reason => QuarantineCauses.Key(QuarantineCauses.Normalise(reason)));

        Assert.Equal(4, causes.Distinct().Count());
    }

    [Fact]
    public void MinuteCountersCountEachMinuteAndForgetWhatIsAnHourOld()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 10, 0, 30, TimeSpan.Zero));
        var counters = new MinuteCounters(time, "processed", "duplicate");

        counters.Increment("processed");
        counters.Increment("processed");
        counters.Increment("not-a-series");
        time.Advance(TimeSpan.FromMinutes(1));
        counters.Increment("duplicate");
        var hour = counters.LastHour(time.GetUtcNow());
        Assert.Equal(new long[] { 2, 0 }, hour["processed"][^2..]);
        Assert.Equal(new long[] { 0, 1 }, hour["duplicate"][^2..]);
        Assert.Equal(2, hour["processed"].Sum());

        // The slot of 10:00 is 11:00's: an hour on, the old count is gone, not added to.
        time.Advance(TimeSpan.FromMinutes(59));
        counters.Increment("processed");
        hour = counters.LastHour(time.GetUtcNow());
        Assert.Equal(1, hour["processed"].Sum());
        Assert.Equal(1, hour["processed"][^1]);
        Assert.Equal(1, hour["duplicate"][0]);
    }

    [Fact]
    public void MinuteCountersLoseNoCountUnderConcurrentIncrements()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero));
        var counters = new MinuteCounters(time, "processed");

        Parallel.For(0, 200_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => counters.Increment("processed"));

        Assert.Equal(200_000, counters.LastHour(time.GetUtcNow())["processed"][^1]);
    }
}
