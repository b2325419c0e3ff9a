# syntax=docker/dockerfile:1
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source

# Restore in its own layer: it reruns only when a project or package version changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/PulseCart.Abstractions/PulseCart.Abstractions.csproj src/PulseCart.Abstractions/
COPY src/PulseCart.Grains/PulseCart.Grains.csproj src/PulseCart.Grains/
COPY src/PulseCart.GoogleApis/PulseCart.GoogleApis.csproj src/PulseCart.GoogleApis/
COPY src/PulseCart.Google/PulseCart.Google.csproj src/PulseCart.Google/
COPY src/PulseCart.Emulators/PulseCart.Emulators.csproj src/PulseCart.Emulators/
COPY src/PulseCart.Emulators.Host/PulseCart.Emulators.Host.csproj src/PulseCart.Emulators.Host/
COPY src/PulseCart.Consumer/PulseCart.Consumer.csproj src/PulseCart.Consumer/
RUN dotnet restore src/PulseCart.Consumer/PulseCart.Consumer.csproj -r linux-x64 \
      -p:SelfContained=true -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true && \
    dotnet restore src/PulseCart.Emulators.Host/PulseCart.Emulators.Host.csproj

COPY src/ src/
# ReadyToRun: code compiled ahead of time, so a new instance under load spends less of its first seconds in the JIT.
# Self-contained and composite: the runtime, ASP.NET Core, Orleans and our code compiled as one image, which can also hold
# the generic code that crosses assemblies (async state machines, collections of other assemblies' types); separately
# compiled, the JIT has to make those at start. In four of five pairs of fresh consumers it was ready sooner and answered
# 20-57 % more requests in its first 2 s; steady throughput level (bench/README.md, Warm-up). The compile takes
# ~5 min; the app is ~180 MB larger, the image ~75 MB (it no longer needs the ASP.NET image's shared runtime).
# The standalone twins are published too (into /emulators, for the emulators target).
RUN dotnet publish src/PulseCart.Consumer/PulseCart.Consumer.csproj -c Release -r linux-x64 --self-contained true \
    -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true --no-restore -o /app && \
    dotnet publish src/PulseCart.Emulators.Host/PulseCart.Emulators.Host.csproj -c Release --no-restore -o /emulators

# The Cloud Tasks and Pub/Sub twins alone, for other projects' tests: docker build --target emulators -t pulsecart-twins .
# then docker run -p 8085:8085 -p 8086:8086 -p 8123:8123 -p 8124:8124 pulsecart-twins (docs/twins.md has the recipes).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS emulators
WORKDIR /app
COPY --from=build /emulators ./
ENV ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_URLS=http://0.0.0.0:8090 \
    PulseCart__Emulators__ListenAddress=0.0.0.0
# Pub/Sub gRPC and REST, Cloud Tasks gRPC and REST, and GET /health.
EXPOSE 8085 8086 8123 8124 8090
USER $APP_UID
ENTRYPOINT ["dotnet", "PulseCart.Emulators.Host.dll"]

# The consumer: the last stage, so a plain docker build makes it. It carries its own runtime, so the base image only
# needs the runtime's native dependencies.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./

# Cloud Run sets PORT; the consumer listens on it (8080 when unset). No secrets here: configuration comes from the environment.
ENV PORT=8080 \
    ASPNETCORE_ENVIRONMENT=Production
# A new instance meets its first requests under load: the JIT starts counting calls (and so optimising hot code) at
# once instead of waiting for startup-like activity to pause, which under load it rarely does. bench/run.sh starts the
# consumer with these DOTNET_ settings too, read by bench/consumer-image.sh one per ENV line: keep them so.
ENV DOTNET_TC_CallCountingDelayMs=0
# With the composite image nearly all code starts precompiled, and what the JIT still did in a fresh process's first
# seconds under load was recompiling warm methods: some twice (instrumented, then optimised with the profile) and many
# that had barely been called. Tiered PGO off compiles each once; a threshold of 256 calls instead of 30 compiles only
# the hot ones. The JIT is done ~2 s sooner; side by side, sessions and unique events were level and a duplicate cost
# ~1 us more of its ~22 (bench/README.md, Warm-up). The threshold is read as hexadecimal.
ENV DOTNET_TieredPGO=0
ENV DOTNET_TC_CallCountThreshold=0x100
# Each active cart and order is a few KB that lives for minutes, so every gen-0 collection copies what arrived since
# the last one, and the pause grows with the gap: the default budget let it reach 25-55 ms (gen 1: 80-150 ms) under
# sessions load. A cap of 8 MB per heap keeps gen-0 pauses near 10 ms for about 2 % more CPU per event (bench/README.md,
# Latency). Only this spelling is read: DOTNET_GCgen0MaxBudget is ignored on Linux.
ENV DOTNET_GCGen0MaxBudget=0x800000
EXPOSE 8080
# The .NET images (runtime-deps included) ship a non-root "app" user; APP_UID is its id.
USER $APP_UID
# Readiness: GET /health/ready (silo joined, Redis answering). Liveness: GET /health/live.
ENTRYPOINT ["./PulseCart.Consumer"]
