# syntax=docker/dockerfile:1
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source

# Restore in its own layer: it reruns only when a project or package version changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/PulseCart.Abstractions/PulseCart.Abstractions.csproj src/PulseCart.Abstractions/
COPY src/PulseCart.Grains/PulseCart.Grains.csproj src/PulseCart.Grains/
COPY src/PulseCart.Google/PulseCart.Google.csproj src/PulseCart.Google/
COPY src/PulseCart.Emulators/PulseCart.Emulators.csproj src/PulseCart.Emulators/
COPY src/PulseCart.Consumer/PulseCart.Consumer.csproj src/PulseCart.Consumer/
RUN dotnet restore src/PulseCart.Consumer/PulseCart.Consumer.csproj -r linux-x64

COPY src/ src/
# ReadyToRun: code compiled ahead of time, so a new instance under load spends less of its first seconds in the JIT.
RUN dotnet publish src/PulseCart.Consumer/PulseCart.Consumer.csproj -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./

# Cloud Run sets PORT; the consumer listens on it (8080 when unset). No secrets here: configuration comes from the environment.
ENV PORT=8080 \
    ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
# The aspnet image ships a non-root "app" user; APP_UID is its id.
USER $APP_UID
# Readiness: GET /health/ready (silo joined, Redis answering). Liveness: GET /health/live.
ENTRYPOINT ["dotnet", "PulseCart.Consumer.dll"]
