# Sourced by run.sh and ab.sh: the consumer as the container ships it (Dockerfile), and how both build it. Needs ROOT.
# How the image builds it: published Release for linux-x64, self-contained, one composite ReadyToRun image (~5 min).
publish_flags=(-c Release -r linux-x64 --self-contained true -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true)
# The runtime settings the image gives it (the Dockerfile's runtime stage, ENV DOTNET_*).
mapfile -t image_env < <(sed -n '/ AS runtime/,$p' "$ROOT/Dockerfile" | grep -oE '^ENV DOTNET_[A-Za-z0-9_]+=[^ ]+' | cut -c5-)
# source_at REF DIR: the repository's files as committed at REF, unpacked into DIR.
source_at() { mkdir -p "$2" && git -C "$ROOT" archive "$1" | tar -x -C "$2"; }
# publish_consumer SRC OUT LOG: SRC's consumer published into OUT as the image builds it; on failure, the log's tail and exit.
publish_consumer() {
  dotnet publish "$1/src/PulseCart.Consumer" "${publish_flags[@]}" -o "$2" -nologo -v m >"$3" 2>&1 \
    || { tail -30 "$3" >&2; exit 1; }
}
