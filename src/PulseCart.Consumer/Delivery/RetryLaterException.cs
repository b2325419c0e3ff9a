namespace PulseCart.Consumer.Delivery;

/// <summary>Nothing failed, but the delivery came too early: answered 503 with <c>Retry-After</c>, which Cloud Tasks honours.</summary>
public sealed class RetryLaterException(string message, TimeSpan retryAfter) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
