using System.Globalization;

namespace PulseCart.Emulators.Api;

/// <summary>List pages as Google's APIs hand them out: at most <c>page_size</c> items and an opaque token for the rest.</summary>
internal static class Paging
{
    /// <summary>
    /// One page of <paramref name="items"/>; the token is empty on the last page. A page size of 0 means
    /// <paramref name="maxPageSize"/>. With <paramref name="bytesOf"/>, a page also ends before its items' bytes would pass
    /// <paramref name="maxPageBytes"/> (it always holds one): Google's list methods may return fewer items than asked.
    /// </summary>
    public static (IReadOnlyList<T> Items, string NextPageToken) Page<T>(
        IReadOnlyList<T> items, int pageSize, string pageToken, int maxPageSize, Func<T, long>? bytesOf = null, long maxPageBytes = long.MaxValue)
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
        List<T> page = [];
        long bytes = 0;
        foreach (var item in items.Skip(offset).Take(size))
        {
            bytes += bytesOf?.Invoke(item) ?? 0;
            if (page.Count > 0 && bytes > maxPageBytes)
            {
                break;
            }

            page.Add(item);
        }

        var next = offset + page.Count < items.Count ? (offset + page.Count).ToString(CultureInfo.InvariantCulture) : "";
        return (page, next);
    }
}
