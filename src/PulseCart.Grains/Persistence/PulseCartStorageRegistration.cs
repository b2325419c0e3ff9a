using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace PulseCart.Grains.Persistence;

public static class PulseCartStorageRegistration
{
    /// <summary>
    /// Makes <see cref="PulseCartGrainStorage"/> over <paramref name="store"/> the storage named <see cref="GrainStorage.Name"/>,
    /// where carts and orders keep their state. State earlier versions stored is read with the silo's serializers. Grains'
    /// <c>[PersistentState]</c> in that storage calls it directly (<see cref="DirectPersistentState{TState}"/>).
    /// </summary>
    public static ISiloBuilder AddPulseCartGrainStorage(this ISiloBuilder silo, Func<IServiceProvider, IStateStore> store)
    {
        silo.Services.AddGrainStorage(GrainStorage.Name, (services, _) => new PulseCartGrainStorage(
            store(services),
            services.GetRequiredService<IOptions<ClusterOptions>>(),
            new GrainStateSerializer(services.GetRequiredService<Serializer>(), services.GetRequiredService<IGrainStorageSerializer>()),
            services.GetRequiredService<IGrainContextAccessor>()));
        silo.Services.Replace(ServiceDescriptor.Singleton<IPersistentStateFactory, DirectPersistentStateFactory>());
        return silo;
    }
}
