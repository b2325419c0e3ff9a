# Sourced by run.sh and ab.sh: the consumer as the container ships it (Dockerfile). Needs ROOT (the repository).
# How the image builds it: published Release, ReadyToRun for linux-x64.
publish_flags=(-c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true)
# The runtime settings the image gives it (the Dockerfile's runtime stage, ENV DOTNET_*).
mapfile -t image_env < <(sed -n '/ AS runtime/,$p' "$ROOT/Dockerfile" | grep -oE '^ENV DOTNET_[A-Za-z0-9_]+=[^ ]+' | cut -c5-)
