using System.Text;
using PulseCart.Consumer.Quarantine;

namespace PulseCart.Consumer.Tests;

/// <summary>What a listing shows of a body: its first 2 KiB, as text when they are text, never half a character.</summary>
public sealed class QuarantinePreviewTests
{
    [Fact]
    public void ACharacterThePreviewsEndWouldHalveIsLeftOut()
    {
        var body = new string('a', 2_047) + "€" + new string('b', 10_000);

        var listing = Listing(Encoding.UTF8.GetBytes(body));

        Assert.Equal(("utf-8", new string('a', 2_047), true), (listing.BodyEncoding, listing.BodyPreview, listing.BodyTruncated));
        Assert.Equal(2_047 + 3 + 10_000, listing.BodyBytes);
    }

    [Fact]
    public void StrayContinuationBytesAtThePreviewsEndMakeItBase64NotShorterText()
    {
        var body = Encoding.UTF8.GetBytes(new string('a', 2_040)).Concat(Enumerable.Repeat((byte)0x80, 20)).ToArray();

        var listing = Listing(body);

        Assert.Equal("base64", listing.BodyEncoding);
        Assert.Equal(body[..2_048], Convert.FromBase64String(listing.BodyPreview));
    }

    [Fact]
    public void AShortBodyIsShownWholeAsTextOrBase64()
    {
        Assert.Equal(("utf-8", "{\"é\":1}", false), Shown(Listing(Encoding.UTF8.GetBytes("{\"é\":1}"))));
        Assert.Equal(("base64", "//4AQQ==", false), Shown(Listing([0xff, 0xfe, 0x00, 0x41])));
    }

    private static (string, string, bool) Shown(QuarantineListing listing) => (listing.BodyEncoding, listing.BodyPreview, listing.BodyTruncated);

    private static QuarantineListing Listing(byte[] body)
    {
        var entry = QuarantineEntry.Create(DateTimeOffset.UtcNow, "push", "unusable", null, null, null, null, body);
        return entry.ToListing(BodyHead.Of(entry.Body, QuarantineEntry.HeadBytes), DateTimeOffset.UtcNow);
    }
}
