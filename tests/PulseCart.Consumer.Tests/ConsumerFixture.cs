namespace PulseCart.Consumer.Tests;

/// <summary>One embedded consumer shared by a test class; tests use fresh ids so they never see each other's carts.</summary>
public sealed class ConsumerFixture : IAsyncLifetime
{
    public ConsumerFactory Factory { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Client = Factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}
