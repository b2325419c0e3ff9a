# Sourced by run.sh, ab.sh and lifecycle.sh: the consumer as the container ships it (Dockerfile), and how they build
# and start it. Needs ROOT.
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
# start_image_consumer NAME DLL REDIS_PORT HTTP_PORT SILO_PORT GATEWAY_PORT TASKS_PORT [NAME=VALUE...]: a redis-server
# of its own, then the consumer from DLL's directory (as the container runs it from /app) with the image's settings,
# Production, auth off, the file sink, reminders to the Cloud Tasks stand-in; returns once it is ready, its pid in
# $started_pid and its Redis's in $redis_pid. Needs processes.sh, work=... and log().
start_image_consumer() {
  local name=$1 dll=$2 redis=$3 http=$4 silo=$5 gateway=$6 tasks=$7; shift 7
  start_process "$work/redis-$name.log" redis-server --port "$redis" --bind 127.0.0.1 --save "" --appendonly no --dir "$work"
  redis_pid=$started_pid
  for _ in $(seq 50); do redis-cli -p "$redis" ping >/dev/null 2>&1 && break; sleep 0.1; done
  start_process "$work/consumer-$name.log" Logging__LogLevel__Default=Warning PulseCart__Redis="127.0.0.1:$redis" PORT="$http" \
    PulseCart__Auth__Mode=None PulseCart__CloudTasks__BaseUrl="http://127.0.0.1:$tasks" \
    PulseCart__CloudTasks__ProjectId=pulsecart-bench PulseCart__CloudTasks__Location=local \
    PulseCart__CloudTasks__Queue=pulsecart-cart-reminders PulseCart__CloudTasks__CallbackBaseUrl="http://127.0.0.1:$http" \
    PulseCart__Messaging__Sink=file PulseCart__Messaging__FilePath="$work/$name-messages.jsonl" \
    PulseCart__Cluster__SiloPort="$silo" PulseCart__Cluster__GatewayPort="$gateway" "${image_env[@]}" "$@" \
    bash -c 'cd "$(dirname "$0")" && exec dotnet "$0"' "$dll"
  wait_until_ready "http://127.0.0.1:$http/health/ready"
}

# wait_until_ready URL: polls it every 100 ms for up to a minute; exits the script if it never answers 2xx.
wait_until_ready() {
  for _ in $(seq 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  log "not ready: $1"; exit 1
}

# start_tasks_stub PORT: bench/TasksStub, the Cloud Tasks stand-in the consumers send reminders to; returns once ready.
start_tasks_stub() {
  start_process "$work/tasks.log" Logging__LogLevel__Default=Warning PORT="$1" dotnet "$BENCH/.artifacts/bin/TasksStub/release/TasksStub.dll"
  wait_until_ready "http://127.0.0.1:$1/health/ready"
}
