using System.Globalization;

namespace PulseCart.Emulators.Api;

/// <summary>List pages as Google's APIs hand them out: at most <c>page_size</c> items and an opaque token for the rest.</summary>
internal static class Paging
{
    /// <summary>One page of <paramref name="items"/>; the token is empty on the last page. A page size of 0 means <paramref name="maxPageSize"/>.</summary>
    public static (IReadOnlyList<T> Items, string NextPageToken) Page<T>(IReadOnlyList<T> items, int pageSize, string pageToken, int maxPageSize)
    {
        if (pageSize < 0)
        {
            throw ApiException.InvalidArgument("page_size must not be negative.");
        }

        var offset = 0;
        if (pageToken.Length > 0 && (!int.TryParse(pageToken, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset > items.Count))
        {
            throw ApiException.InvalidArgument("Invalid page_token.");
        }

        var size = pageSize == 0 ? maxPageSize : Math.Min(pageSize, maxPageSize);
        IReadOnlyList<T> page = [.. items.Skip(offset).Take(size)];
        var next = offset + page.Count < items.Count ? (offset + page.Count).ToString(CultureInfo.InvariantCulture) : "";
        return (page, next);
    }
}
