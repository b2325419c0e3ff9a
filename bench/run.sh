#!/usr/bin/env bash
# The consumer beside the seed design (bench/Baseline) and an empty endpoint (bench/NoOp), in one run.
#
#   bash bench/run.sh                 every part below (~25 min): 3 rounds x 5 loads (unique, dup, mix, sessions, active)
#                                     x 3 services, 10 s each; 50-way redelivery; sessions at half the seed's peak; one
#                                     cart's rate; quarantine memory; a fresh consumer and a fresh baseline under 240 s
#                                     of unique events (warm-up curve, long cold run). See bench/README.md.
#   bash bench/run.sh --smoke         the same in a few seconds of load each; exits 1 on any error or consumer double send
#   bash bench/run.sh --memory [N]    N distinct carts (default 1,000,000) through the consumer; peak and settled RSS
#
# Options: --rounds R --duration S --warmup S --threads T --connections C --events N --copies C --settle S
#          --only PART[,PART]  some parts: unique dup mix sessions active redelivery paced single-cart quarantine cold state
#                         (paced needs sessions in the same run, or --paced-rate)
#          --cold-duration S (240)  --single-cart-events N (50000)  --quarantine-count N (500)  --paced-rate REQ/S
#          --ref GIT_REF  benchmark the consumer as committed at GIT_REF instead of the working tree
#          --consumer-dll PATH  benchmark an already built PulseCart.Consumer.dll (a candidate change, say)
#          --consumer-env NAME=VALUE  one more setting for the consumer (repeatable), e.g. PulseCart__Dashboard__Enabled=false
#          --keep         keep the work directory (service logs, message files)
#          --priority     run redis, the services and the load generator at nice -10 (needs root): on a shared
#                         machine it keeps other people's builds from deciding the figures
# Everything listens on 127.0.0.1 ports chosen free at start; every process started here is stopped on exit.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")

mode=full rounds=3 duration=10 warmup=5 threads=2 connections=64 events=200 copies=50
carts=1000000 settle=60 ref="" keep=0 priority=0 prebuilt="" consumer_env=()
all_parts="unique dup mix sessions active redelivery paced single-cart quarantine cold state"
parts=$all_parts cold_duration=240 single_cart_events=50000 quarantine_count=500 quarantine_settle=30 paced_rate=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) mode=smoke rounds=1 duration=1 warmup=1 events=20 cold_duration=6 single_cart_events=2000 quarantine_count=10 quarantine_settle=2 ;;
    --only)
      parts=${2//,/ }
      for part in $parts; do [[ " $all_parts " == *" $part "* ]] || { echo "run.sh: --only takes some of: $all_parts" >&2; exit 2; }; done
      shift ;;
    --cold-duration) cold_duration=$2; shift ;;
    --single-cart-events) single_cart_events=$2; shift ;;
    --quarantine-count) quarantine_count=$2; shift ;;
    --paced-rate) paced_rate=$2; shift ;;
    --memory) mode=memory; if [[ ${2:-} =~ ^[0-9]+$ ]]; then carts=$2; shift; fi ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --threads) threads=$2; shift ;;
    --connections) connections=$2; shift ;;
    --events) events=$2; shift ;;
    --copies) copies=$2; shift ;;
    --settle) settle=$2; shift ;;
    --ref) ref=$2; shift ;;
    --consumer-dll) prebuilt=$(readlink -f "$2"); shift ;;
    --consumer-env) [[ $2 == *=* ]] || { echo "run.sh: --consumer-env takes NAME=VALUE" >&2; exit 2; }; consumer_env+=("$2"); shift ;;
    --keep) keep=1 ;;
    --priority) priority=1 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
selected() { [[ " $parts " == *" $1 "* ]]; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} with apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
work=$(mktemp -d "${TMPDIR:-/tmp}/pulsecart-bench.XXXXXX")
nice=()
[ "$priority" -eq 1 ] && nice=(nice -n -10)
source "$BENCH/processes.sh"

# ---- build (Release) ----------------------------------------------------------------------------------------
build_bench_tools

source "$BENCH/consumer-image.sh"
if [ -n "$prebuilt" ]; then
  commit=unknown
  consumer_source="prebuilt $prebuilt"
  consumer_dll=$prebuilt
elif [ -n "$ref" ]; then
  commit=$(git -C "$ROOT" rev-parse "$ref")
  consumer_source="commit $commit"
  source_at "$commit" "$work/src"
  log "building the consumer as committed at $ref ($commit)"
  publish_consumer "$work/src" "$work/consumer-publish" "$work/build-consumer.log"
  consumer_dll="$work/consumer-publish/PulseCart.Consumer.dll"
else
  commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
  consumer_source="working tree at $commit$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' with uncommitted src changes')"
  log "building src/PulseCart.Consumer (Release, working tree)"
  publish_consumer "$ROOT" "$work/consumer-publish" "$work/build-consumer.log"
  consumer_dll="$work/consumer-publish/PulseCart.Consumer.dll"
fi

[ -f "$consumer_dll" ] || { log "the build left no $consumer_dll; build log:"; tail -30 "$work/build-consumer.log" >&2; exit 1; }

# The image's runtime settings first, then --consumer-env.
consumer_env=("${image_env[@]}" "${consumer_env[@]}")
[ ${#consumer_env[@]} -gt 0 ] && consumer_source+=" with ${consumer_env[*]}"

# ---- start redis, the Cloud Tasks stub and the services on free loopback ports --------------------------------
read -r redis_port tasks_port noop_port baseline_port consumer_port silo_port gateway_port \
  quarantine_port quarantine_silo quarantine_gateway cold_consumer_port cold_silo cold_gateway cold_baseline_port \
  < <(driver ports --count 14)
declare -A port pid messages started_ms ready_ms

start() { # name, then the command (env assignments first)
  local name=$1; shift
  started_ms[$name]=$(date +%s%3N)
  start_process "$work/$name.log" "$@"
  pid[$name]=$started_pid
}

# Stops one service started above, by its pid, and forgets the pid so that the exit trap cannot hit a reused one.
stop_service() {
  local name=$1 p=${pid[$1]} kept=() q
  kill "$p" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  for q in "${pids[@]}"; do [ "$q" != "$p" ] && kept+=("$q"); done
  pids=("${kept[@]}")
}

start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work"
redis() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }
for _ in $(seq 50); do redis ping >/dev/null 2>&1 && break; sleep 0.1; done
redis ping >/dev/null

probe_dll="$BENCH/.artifacts/bin/RuntimeProbe/release/RuntimeProbe.dll"
probe() { echo DOTNET_STARTUP_HOOKS="$probe_dll" BENCH_RUNTIME_PROBE_FILE="$work/$1.probe"; }
common=(Logging__LogLevel__Default=Warning PulseCart__Redis="127.0.0.1:$redis_port")
# Both services create their reminder tasks in one stub of Cloud Tasks (bench/TasksStub), a process of its own, so
# that scheduling costs them the same and neither carries an emulator. It never dispatches: reminders fall due hours later.
tasks_env=(PulseCart__CloudTasks__BaseUrl="http://127.0.0.1:$tasks_port" PulseCart__CloudTasks__ProjectId=pulsecart-bench
  PulseCart__CloudTasks__Location=local PulseCart__CloudTasks__Queue=pulsecart-cart-reminders)
port[tasks]=$tasks_port
start tasks Logging__LogLevel__Default=Warning PORT="$tasks_port" dotnet "$BENCH/.artifacts/bin/TasksStub/release/TasksStub.dll"

# The consumer runs from a hard-linked copy of its build through its apphost, renamed: what the image starts (a
# self-contained build brings its runtime; a framework-dependent one finds it through DOTNET_ROOT), but a command line
# that a `pkill -f PulseCart.Consumer` elsewhere on a shared machine does not match (that happened during this
# benchmark's first runs).
consumer_app="$work/consumer-app"
mkdir -p "$consumer_app"
cp -al "$(dirname "$consumer_dll")/." "$consumer_app/" 2>/dev/null || cp -a "$(dirname "$consumer_dll")/." "$consumer_app/"
consumer_cmd=(dotnet "$consumer_dll")
if [ -x "$consumer_app/PulseCart.Consumer" ]; then
  cp "$consumer_app/PulseCart.Consumer" "$consumer_app/consumer-under-bench"
  consumer_cmd=(env DOTNET_ROOT="$(dirname "$(readlink -f "$(command -v dotnet)")")" "$consumer_app/consumer-under-bench")
fi

# Auth off: the baseline has none, and Pub/Sub's OIDC token cannot be minted here (see bench/README.md). Production
# settings (no ASPNETCORE_ENVIRONMENT): the embedded emulators stay off, reminders go to the stub.
start_consumer() { # name, http port, silo port, gateway port
  local name=$1
  port[$name]=$2
  messages[$name]="$work/$name-messages.jsonl"
  start "$name" $(probe "$name") "${common[@]}" PORT="$2" PulseCart__Auth__Mode=None \
    "${tasks_env[@]}" PulseCart__CloudTasks__CallbackBaseUrl="http://127.0.0.1:$2" \
    PulseCart__Messaging__Sink=file PulseCart__Messaging__FilePath="${messages[$name]}" \
    PulseCart__Cluster__SiloPort="$3" PulseCart__Cluster__GatewayPort="$4" \
    "${consumer_env[@]}" "${consumer_cmd[@]}"
}
start_baseline() { # name, http port
  local name=$1
  port[$name]=$2
  messages[$name]="$work/$name-messages.jsonl"
  start "$name" $(probe "$name") "${common[@]}" PORT="$2" PulseCart__Messaging__FilePath="${messages[$name]}" \
    "${tasks_env[@]}" PulseCart__CloudTasks__CallbackBaseUrl="http://127.0.0.1:$2" \
    dotnet "$BENCH/.artifacts/bin/Baseline/release/Baseline.dll"
}

wait_ready() { # name: polls /health/ready every 50 ms, so that a warm-up curve starts at readiness
  local name=$1
  for _ in $(seq 1200); do
    if curl -fsS -o /dev/null "http://127.0.0.1:${port[$name]}/health/ready" 2>/dev/null; then
      ready_ms[$name]=$(date +%s%3N)
      log "$name ready on 127.0.0.1:${port[$name]} (pid ${pid[$name]}) $(( ready_ms[$name] - started_ms[$name] )) ms after start"
      return 0
    fi
    kill -0 "${pid[$name]}" 2>/dev/null || break
    sleep 0.05
  done
  log "$name did not become ready; its log:"
  tail -40 "$work/$name.log" >&2
  exit 1
}

wait_ready tasks
services=()
if [ "$mode" = memory ]; then
  start_consumer consumer "$consumer_port" "$silo_port" "$gateway_port"
  services=(consumer)
elif selected unique || selected dup || selected mix || selected sessions || selected active || selected redelivery || selected paced || selected single-cart; then
  start_consumer consumer "$consumer_port" "$silo_port" "$gateway_port"
  start_baseline baseline "$baseline_port"
  port[no-op]=$noop_port
  start no-op $(probe no-op) Logging__LogLevel__Default=Warning PORT="$noop_port" dotnet "$BENCH/.artifacts/bin/NoOp/release/NoOp.dll"
  services=(no-op baseline consumer)
fi
for service in "${services[@]}"; do wait_ready "$service"; done

mkdir -p "$BENCH/results"
raw="$work/raw.jsonl"
run_id=$(date +%s)
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
printf '{"kind":"meta","date":"%s","mode":"%s","priority":%s,"load_average_at_start":%s,"machine":{"cores":%s,"memory_gib":%s,"cpu":%s,"kernel":%s},"dotnet":%s,"consumer":%s,"rounds":%s,"duration_s":%s,"warmup_s":%s,"wrk":{"threads":%s,"connections":%s},"redelivery":{"events":%s,"copies":%s},"parts":%s,"cold_duration_s":%s,"single_cart_events":%s,"quarantine_pushes":%s}\n' \
  "$(date -u +%FT%TZ)" "$mode" "$([ "$priority" -eq 1 ] && echo true || echo false)" "$(cut -d' ' -f1 /proc/loadavg)" "$(nproc)" "$(awk '/MemTotal/{printf "%.1f", $2/1048576}' /proc/meminfo)" \
  "$(json_str "$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)")" "$(json_str "$(uname -r)")" \
  "$(json_str "$(dotnet --version)")" "$(json_str "$consumer_source")" \
  "$rounds" "$duration" "$warmup" "$threads" "$connections" "$events" "$copies" "$(json_str "$parts")" \
  "$cold_duration" "$single_cart_events" "$quarantine_count" >"$raw"

ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
kernel_ticks() { awk '{print $15}' "/proc/$1/stat"; } # of those, the time spent in the kernel on the process's behalf
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
softirq() { awk '/^cpu /{print $7+$8}' /proc/stat; } # interrupt work, mostly loopback TCP, charged to no process
rss_mib() { awk -v f="$2:" '$1==f{printf "%.1f", $2/1024}' "/proc/$1/status"; }

# ---- memory mode ----------------------------------------------------------------------------------------------
if [ "$mode" = memory ]; then
  cpid=${pid[consumer]}
  before=$(rss_mib "$cpid" VmRSS)
  log "pushing $carts distinct carts (cart.updated) through the consumer; RSS before: $before MiB"
  push=$("${nice[@]}" dotnet "$BENCH/.artifacts/bin/Driver/release/Driver.dll" push-carts --url "http://127.0.0.1:$consumer_port/consumer/push" --prefix "mem-$run_id-" \
    --count "$carts" --concurrency "$connections" --pid "$cpid")
  after=$(rss_mib "$cpid" VmRSS)
  grains=$(driver grains --gateway-port "$gateway_port" 2>>"$work/driver.log" || echo null)
  log "load done: RSS $after MiB, peak $(rss_mib "$cpid" VmHWM) MiB; grains $grains; settling $settle s"
  samples=""
  for ((s = 10; s <= settle; s += 10)); do
    sleep 10
    samples+="${samples:+,}{\"after_s\":$s,\"rss_mib\":$(rss_mib "$cpid" VmRSS)}"
  done
  settled=$(rss_mib "$cpid" VmRSS)
  grains_settled=$(driver grains --gateway-port "$gateway_port" 2>>"$work/driver.log" || echo null)
  # An idle process runs no GC, so memory freed by deactivations stays counted; a little traffic shows what is left.
  "${nice[@]}" wrk -t 1 -c 8 -d 5s -s "$BENCH/load/push.lua" "http://127.0.0.1:$consumer_port/consumer/push" -- dup "mem-after-$run_id" >/dev/null
  sleep 5
  after_traffic=$(rss_mib "$cpid" VmRSS)
  heap_after_traffic=$(awk '{printf "%.1f", $7/1048576}' "$work/consumer.probe")
  heap=$(awk '{printf "{\"gc_heap_mib\":%.1f,\"gc_committed_mib\":%.1f,\"gen2_collections\":%d,\"server_gc\":%s}", $7/1048576, $8/1048576, $6, $10==1 ? "true" : "false"}' "$work/consumer.probe")
  peak=$(rss_mib "$cpid" VmHWM)
  redis_mib=$(redis info memory | awk -F: '/^used_memory:/{printf "%.1f", $2/1048576}')
  per_cart=$(awk -v a="$settled" -v b="$before" -v n="$carts" 'BEGIN{printf "%.3f", (a-b)*1024/n}')
  projected=$(awk -v a="$settled" -v b="$before" -v n="$carts" 'BEGIN{printf "%.0f", b+(a-b)*1000000/n}')
  printf '{"kind":"memory","carts":%s,"push":%s,"rss_before_load_mib":%s,"rss_after_load_mib":%s,"rss_settled_mib":%s,"settle_s":%s,"settle_samples":[%s],"peak_rss_mib":%s,"grains":%s,"grains_after_settle":%s,"runtime_at_settle":%s,"rss_after_5s_light_traffic_mib":%s,"gc_heap_after_light_traffic_mib":%s,"kib_per_cart":%s,"projected_settled_mib_at_1m":%s,"target_settled_mib":1024,"redis_used_memory_mib":%s}\n' \
    "$carts" "$push" "$before" "$after" "$settled" "$settle" "$samples" "$peak" "$grains" "$grains_settled" "$heap" "$after_traffic" "$heap_after_traffic" "$per_cart" "$projected" "$redis_mib" >>"$raw"
  driver report --raw "$raw" --out "$BENCH/results/$stamp-memory.json" --gate
  exit $?
fi

# ---- throughput loads, interleaved ----------------------------------------------------------------------------
load_env=() # extra environment for push.lua (pacing, windows), set around a call of wrk_run
wrk_run() { # service, seconds, mode, prefix -> BENCH json on stdout
  local out
  out=$(env "${load_env[@]}" "${nice[@]}" wrk -t "$threads" -c "$connections" -d "${2}s" --timeout 5s -s "$BENCH/load/push.lua" \
    "http://127.0.0.1:${port[$1]}/consumer/push" -- "$3" "$4" $count_outcomes)
  printf '%s\n' "$out" | sed -n 's/^BENCH //p'
}
count_outcomes=""; [ "$mode" = smoke ] && count_outcomes=outcomes

# CPU seconds of this shell's finished children (so: of wrk), read with the times builtin in this very shell.
children_cpu() { times >"$work/times"; cpu_now=$(awk 'NR==2{gsub(/[ms]/," "); print $1*60+$2+$3*60+$4}' "$work/times"); }
tasks_stats() { curl -fsS "http://127.0.0.1:$tasks_port/stats"; }

alive() {
  kill -0 "${pid[$1]}" 2>/dev/null && return 0
  log "$1 (pid ${pid[$1]}) is gone: killed from outside the benchmark or crashed; its log:"
  tail -20 "$work/$1.log" >&2
  exit 1
}

measure() { # kind (load|paced), load, service, round; with pacing in load_env for kind paced
  local kind=$1 load=$2 service=$3 round=$4 prefix="r$4$2-$3-$1-$run_id"
  redis flushall >/dev/null
  if [ "$load" = dup ]; then
    wrk_run "$service" 1 dup "$prefix" >/dev/null # every event of the fixed set processed once before measuring
  elif [ "$load" = active ]; then
    wrk_run "$service" 2 active "$prefix" >/dev/null # every cart activated before measuring
  fi
  local s0 sk0 r0 k0 m0 i0 c0 t0 t1 result g0 g1 q0 q1
  sleep 0.6 # the runtime probe rewrites its line every 0.5 s
  g0=$(cat "$work/$service.probe")
  q0=$(tasks_stats)
  s0=$(ticks "${pid[$service]}") sk0=$(kernel_ticks "${pid[$service]}") r0=$(ticks "${pid[redis]}") k0=$(ticks "${pid[tasks]}") m0=$(busy) i0=$(softirq)
  children_cpu; c0=$cpu_now
  t0=$(date +%s.%N)
  result=$(wrk_run "$service" "$duration" "$load" "$prefix")
  t1=$(date +%s.%N)
  local s1 sk1 r1 k1 m1 i1
  s1=$(ticks "${pid[$service]}") sk1=$(kernel_ticks "${pid[$service]}") r1=$(ticks "${pid[redis]}") k1=$(ticks "${pid[tasks]}") m1=$(busy) i1=$(softirq)
  children_cpu
  q1=$(tasks_stats)
  local cpu
  cpu=$(awk -v s="$(( s1 - s0 ))" -v sk="$(( sk1 - sk0 ))" -v r="$(( r1 - r0 ))" -v k="$(( k1 - k0 ))" -v m="$(( m1 - m0 ))" -v i="$(( i1 - i0 ))" \
    -v c="$(awk -v a="$c0" -v b="$cpu_now" 'BEGIN{print b-a}')" \
    -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" -v hz="$(getconf CLK_TCK)" \
    'BEGIN{s/=hz*t; sk/=hz*t; r/=hz*t; k/=hz*t; m/=hz*t; i/=hz*t; c/=t; o=m-s-r-k-c-i; if (o<0) o=0;
      printf "{\"service\":%.3f,\"service_kernel\":%.3f,\"redis\":%.3f,\"tasks_stub\":%.3f,\"client\":%.3f,\"softirq\":%.3f,\"other\":%.3f,\"machine\":%.3f}", s, sk, r, k, c, i, o, m}')
  sleep 0.6
  g1=$(cat "$work/$service.probe")
  local runtime
  runtime=$(awk -v a="$g0" -v b="$g1" 'BEGIN{split(a, x, " "); split(b, y, " ");
    printf "{\"cpu_ms\":%.0f,\"gc_pause_ms\":%.1f,\"allocated_bytes\":%.0f,\"gen0\":%d,\"gen1\":%d,\"gen2\":%d,\"heap_mib\":%.1f,\"committed_mib\":%.1f,\"threadpool_threads\":%d,\"server_gc\":%s}",
      y[1]-x[1], y[2]-x[2], y[3]-x[3], y[4]-x[4], y[5]-x[5], y[6]-x[6], y[7]/1048576, y[8]/1048576, y[9], y[10]==1 ? "true" : "false"}')
  alive "$service"
  printf '{"kind":"%s","load":"%s","service":"%s","round":%s,"rate_target":%s,"cpu":%s,"runtime":%s,"tasks":{"before":%s,"after":%s},"wrk":%s}\n' \
    "$kind" "$load" "$service" "$round" "${pace_target:-null}" "$cpu" "$runtime" "$q0" "$q1" "$result" >>"$raw"
  log "$kind round $round  $(printf '%-8s %-8s' "$load" "$service") $(printf '%s' "$result" | sed -E 's/.*"rps":([0-9.]+).*"p50_ms":([0-9.]+).*"p99_ms":([0-9.]+).*/\1 req\/s  p50 \2 ms  p99 \3 ms/')  cpu $cpu"
}

round_loads=()
for load in unique dup mix sessions active; do selected "$load" && round_loads+=("$load"); done
if [ ${#round_loads[@]} -gt 0 ]; then
  log "warm-up: ${warmup} s of the mixed load per service"
  for service in "${services[@]}"; do wrk_run "$service" "$warmup" mix "warm-$service-$run_id" >/dev/null; done
fi

for ((round = 1; round <= rounds && ${#round_loads[@]} > 0; round++)); do
  for load in "${round_loads[@]}"; do
    # Rotate the order each round so no service always runs first or last.
    for ((i = 0; i < 3; i++)); do
      measure load "$load" "${services[$(( (i + round - 1) % 3 ))]}" "$round"
    done
  done
done

# ---- (d) concurrent identical redelivery -----------------------------------------------------------------------
if selected redelivery; then
  for service in baseline consumer; do
    redis flushall >/dev/null
    prefix="redeliver-$service-$run_id-"
    log "redelivery: $events events x $copies concurrent copies to $service"
    send=$("${nice[@]}" dotnet "$BENCH/.artifacts/bin/Driver/release/Driver.dll" redeliver --url "http://127.0.0.1:${port[$service]}/consumer/push" --prefix "$prefix" --events "$events" --copies "$copies")
    count=$(driver count --file "${messages[$service]}" --prefix "$prefix" --events "$events")
    printf '{"kind":"redelivery","service":"%s","send":%s,"count":%s}\n' "$service" "$send" "$count" >>"$raw"
  done
fi

# ---- sessions at half the seed's peak: latency at a fixed offered rate ------------------------------------------
if selected paced; then
  seed_peak=$(sed -n 's/.*"kind":"load","load":"sessions","service":"baseline".*"wrk":{[^}]*"rps":\([0-9.]*\).*/\1/p' "$raw" | sort -n \
    | awk '{v[NR]=$1} END{if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')
  pace_target=${paced_rate:-$(awk -v p="${seed_peak:-0}" 'BEGIN{if (p > 0) printf "%.0f", p/2}')}
  if [ -z "$pace_target" ]; then
    log "paced: skipped, no baseline sessions figure in this run (add sessions to --only, or give --paced-rate)"
  else
    log "paced: sessions at $pace_target req/s (half the baseline's median sessions rate ${seed_peak:-given})"
    load_env=(BENCH_RATE="$(awk -v r="$pace_target" -v t="$threads" 'BEGIN{printf "%.3f", r/t}')")
    for service in consumer baseline; do measure paced sessions "$service" 1; done
    load_env=()
    printf '{"kind":"paced_meta","seed_peak_rps":%s,"rate_target":%s}\n' "${seed_peak:-null}" "$pace_target" >>"$raw"
  fi
  unset pace_target
fi

# ---- one cart, many events (issue 12) ---------------------------------------------------------------------------
if selected single-cart; then
  redis flushall >/dev/null
  log "single cart: $single_cart_events cart.updated events to one cart"
  result=$("${nice[@]}" dotnet "$BENCH/.artifacts/bin/Driver/release/Driver.dll" single-cart --url "http://127.0.0.1:$consumer_port/consumer/push" \
    --prefix "single-$run_id-" --events "$single_cart_events" --concurrency 4)
  printf '{"kind":"single_cart","service":"consumer","result":%s}\n' "$result" >>"$raw"
fi

for service in "${services[@]}"; do
  kill -0 "${pid[$service]}" 2>/dev/null || { log "$service died during the run; its log:"; tail -40 "$work/$service.log" >&2; exit 1; }
done
# The parts below start fresh processes; the three above would only add their idle CPU and memory.
for service in "${services[@]}"; do stop_service "$service"; done

# ---- quarantine memory (issue 12): a fresh consumer, 1 MiB unusable pushes ---------------------------------------
if selected quarantine; then
  redis flushall >/dev/null
  start_consumer quarantine "$quarantine_port" "$quarantine_silo" "$quarantine_gateway"
  wait_ready quarantine
  log "quarantine: $quarantine_count unusable pushes of ~1 MiB to a fresh consumer"
  result=$(driver quarantine --url "http://127.0.0.1:$quarantine_port/consumer/push" --prefix "quarantine-$run_id-" \
    --pid "${pid[quarantine]}" --count "$quarantine_count" --settle "$quarantine_settle")
  alive quarantine
  printf '{"kind":"quarantine","service":"consumer","result":%s}\n' "$result" >>"$raw"
  stop_service quarantine
fi

# ---- cold start: warm-up curve and long run of unique events, fresh process each ---------------------------------
if selected cold; then
  for service in consumer baseline; do
    redis flushall >/dev/null
    name="cold-$service"
    if [ "$service" = consumer ]; then
      start_consumer "$name" "$cold_consumer_port" "$cold_silo" "$cold_gateway"
    else
      start_baseline "$name" "$cold_baseline_port"
    fi
    wait_ready "$name"
    log "cold: $cold_duration s of unique events to a fresh $service, req/s per 2 s from readiness"
    s0=$(ticks "${pid[$name]}") r0=$(ticks "${pid[redis]}")
    start_ms=$(date +%s%3N)
    load_env=(BENCH_WINDOW_MS=2000 BENCH_ORIGIN_MS="${ready_ms[$name]}")
    result=$(wrk_run "$name" "$cold_duration" unique "cold-$service-$run_id")
    load_env=()
    s1=$(ticks "${pid[$name]}") r1=$(ticks "${pid[redis]}")
    alive "$name"
    rss_end=$(rss_mib "${pid[$name]}" VmRSS) peak=$(rss_mib "${pid[$name]}" VmHWM)
    grains=null
    [ "$service" = consumer ] && grains=$(driver grains --gateway-port "$cold_gateway" 2>>"$work/driver.log" || echo null)
    printf '{"kind":"cold","service":"%s","started_unix_ms":%s,"ready_unix_ms":%s,"load_start_unix_ms":%s,"cpu_s":{"service":%s,"redis":%s},"rss_end_mib":%s,"peak_rss_mib":%s,"grains_end":%s,"wrk":%s}\n' \
      "$service" "${started_ms[$name]}" "${ready_ms[$name]}" "$start_ms" \
      "$(awk -v t="$(( s1 - s0 ))" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t/hz}')" \
      "$(awk -v t="$(( r1 - r0 ))" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t/hz}')" \
      "$rss_end" "$peak" "$grains" "$result" >>"$raw"
    log "cold $service: $(printf '%s' "$result" | sed -E 's/.*"rps":([0-9.]+).*"p99_ms":([0-9.]+).*/\1 req\/s, p99 \2 ms/'), RSS at the end $rss_end MiB"
    stop_service "$name"
  done
fi

# ---- the grain-state path alone (issue 13): the real CartGrain in-process, Orleans' Redis provider beside ours -------
state_table=""
if selected state; then
  redis flushall >/dev/null
  log "state: the grain-state path alone, Orleans' Redis provider and PulseCart's storage, interleaved rounds"
  state_table=$("${nice[@]}" dotnet "$BENCH/.artifacts/bin/StateProbe/release/StateProbe.dll" --redis "127.0.0.1:$redis_port" \
    --seconds "$([ "$mode" = smoke ] && echo 1 || echo 5)" --rounds "$rounds" 2>>"$work/state-probe.log")
  printf '{"kind":"state_probe","table":%s}\n' "$(printf '%s' "$state_table" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().splitlines()))')" >>"$raw"
fi

printf '{"kind":"end","date":"%s","load_average_at_end":%s}\n' "$(date -u +%FT%TZ)" "$(cut -d' ' -f1 /proc/loadavg)" >>"$raw"
echo
if [ -n "$state_table" ]; then
  echo "the grain-state path alone (bench/StateProbe): CartGrain on one in-process silo, CPU and allocation per call"
  printf '%s\n\n' "$state_table"
fi
suffix=""; [ "$mode" = smoke ] && suffix="-smoke"
driver report --raw "$raw" --out "$BENCH/results/$stamp$suffix.json" --gate
