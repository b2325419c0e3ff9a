using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PulseCart.CloudTasks.Tests.Support;

/// <summary>How the fake task handler answers one request.</summary>
public sealed record Reply(int Status, TimeSpan? RetryAfter = null, bool Hang = false, Task? HoldUntil = null, string? Body = null);

/// <summary>One request the fake handler received, stamped with the test's clock.</summary>
public sealed record ReceivedRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body,
    DateTimeOffset ReceivedAt)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A real HTTP server standing in for a task handler or for the Cloud Tasks API: records every request and answers as
/// the test scripts (by request number), tracking how many requests it is holding at once.
/// </summary>
public sealed class CallbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedRequest> _arrivals = Channel.CreateUnbounded<ReceivedRequest>();
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private int _count;
    private int _inFlight;
    private int _maxInFlight;

    private CallbackServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The time stamped on each request; the emulator's fake clock in most tests.</summary>
    public Func<DateTimeOffset> Now { get; set; } = () => DateTimeOffset.UtcNow;

    /// <summary>The answer to request number n (0 for the first); 200 unless a test says otherwise.</summary>
    public Func<int, Reply> Respond { get; set; } = _ => new Reply(200);

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    public int InFlight => Volatile.Read(ref _inFlight);

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public static async Task<CallbackServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new CallbackServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Urls.Single());
        return server;
    }

    /// <summary>The next request, waiting up to ten seconds of real time for it.</summary>
    public async Task<ReceivedRequest> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await _arrivals.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No request arrived within 10 s; {_count} so far.");
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var headers = context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new ReceivedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body.ToArray(), Now());
        var number = Interlocked.Increment(ref _count) - 1;
        var inFlight = Interlocked.Increment(ref _inFlight);
        InterlockedMax(ref _maxInFlight, inFlight);
        var holding = true;
        try
        {
            _received.Enqueue(request);
            _arrivals.Writer.TryWrite(request);
            var reply = Respond(number);
            if (reply.Hang)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            if (reply.HoldUntil is not null)
            {
                await reply.HoldUntil;
            }

            // Released before anything is written, so the caller cannot see the answer while this still counts as held.
            Interlocked.Decrement(ref _inFlight);
            holding = false;
            context.Response.StatusCode = reply.Status;
            if (reply.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (reply.Body is not null)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(reply.Body);
            }
        }
        finally
        {
            if (holding)
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
