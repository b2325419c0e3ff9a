#!/usr/bin/env bash
# Two builds or settings of the consumer side by side: both started, both warmed, then loaded in turn in short bursts
# (A B, B A, A B, ...), so that a slow minute on a shared machine hits both alike. For changes of 5-15 %, which
# fresh-process pairs a minute apart cannot tell from the machine's noise (bench/README.md, "Comparing two builds").
#
#   bash bench/ab.sh --a REF --b REF [options]
#
# REF: a git ref (built as committed), "worktree" (the working tree), or a path to a built PulseCart.Consumer.dll.
# Options: --a-env NAME=VALUE, --b-env NAME=VALUE (repeatable; after the Dockerfile's DOTNET_* settings, which both get)
#          --mode M (sessions; any load of bench/load/push.lua)  --rounds N (12)  --seconds S (5 per burst)
#          --warmup S (15 per consumer, before the first burst)  --priority (nice -10; needs root)
#          --rate R (offer R req/s on a fixed schedule instead of as fast as answered: for comparing p99 at a rate)
# Prints each burst (req/s, p99 ms, consumer CPU µs per event; also kept in bench/results/ab-*.txt), the medians,
# and how many rounds B won.
# Everything listens on 127.0.0.1 ports chosen free at start; every process started here is stopped on exit.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
a_ref="" b_ref="" a_env=() b_env=() mode=sessions rounds=12 seconds=5 warmup=15 nice=() rate=() rate_note=""
while [ $# -gt 0 ]; do
  case "$1" in
    --a) a_ref=$2; shift ;;
    --b) b_ref=$2; shift ;;
    --a-env) a_env+=("$2"); shift ;;
    --b-env) b_env+=("$2"); shift ;;
    --mode) mode=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --priority) nice=(nice -n -10) ;;
    --rate) rate=(env BENCH_RATE=$(( $2 / 2 ))); rate_note=" at $2 req/s"; shift ;;  # load/push.lua paces each of wrk's two threads
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "ab.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$a_ref" ] && [ -n "$b_ref" ] || { echo "ab.sh: --a and --b are required (see --help)" >&2; exit 2; }

log() { printf '[ab %s] %s\n' "$(date +%T)" "$*" >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/pulsecart-ab.XXXXXX")
source "$BENCH/processes.sh"
source "$BENCH/consumer-image.sh"

build_bench_tools

consumer_dll() { # ref, name: prints the path of a built consumer, as the container ships it
  local ref=$1 name=$2 src
  if [[ $ref == *.dll ]]; then readlink -f "$ref"; return; fi
  if [ "$ref" = worktree ]; then
    src=$ROOT
  else
    src="$work/src-$name"
    source_at "$ref" "$src"
  fi
  log "building the consumer for $name from $ref"
  publish_consumer "$src" "$work/publish-$name" "$work/build-$name.log"
  echo "$work/publish-$name/PulseCart.Consumer.dll"
}
dll_a=$(consumer_dll "$a_ref" a)
if [ "$b_ref" = "$a_ref" ]; then dll_b=$dll_a; else dll_b=$(consumer_dll "$b_ref" b); fi
[ -f "$dll_a" ] && [ -f "$dll_b" ] || { log "no consumer build for A or B"; exit 1; }

read -r tasks_port redis_a redis_b http_a http_b silo_a gateway_a silo_b gateway_b < <(driver ports --count 9)
start_tasks_stub "$tasks_port"
declare -A consumer_pid consumer_port
start_consumer() { # name, dll, redis port, http port, silo port, gateway port, then settings
  local name=$1 http=$4
  start_image_consumer "$1" "$2" "$3" "$4" "$5" "$6" "$tasks_port" "${@:7}"
  consumer_pid[$name]=$started_pid
  consumer_port[$name]=$http
}
start_consumer a "$dll_a" "$redis_a" "$http_a" "$silo_a" "$gateway_a" "${a_env[@]}"
start_consumer b "$dll_b" "$redis_b" "$http_b" "$silo_b" "$gateway_b" "${b_env[@]}"

burst() { # name, seconds, event-id prefix: prints req/s, p99 ms, CPU µs per event
  local pid=${consumer_pid[$1]} before after result requests
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  result=$("${nice[@]}" "${rate[@]}" wrk -t 2 -c 64 -d "$2s" --timeout 5s -s "$BENCH/load/push.lua" \
    "http://127.0.0.1:${consumer_port[$1]}/consumer/push" -- "$mode" "$3" | grep '^BENCH ')
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  requests=$(grep -o '"requests":[0-9]*' <<<"$result" | cut -d: -f2)
  echo "$(grep -o '"rps":[0-9.]*' <<<"$result" | cut -d: -f2) $(grep -o '"p99_ms":[0-9.]*' <<<"$result" | cut -d: -f2)" \
    "$(( (after - before) * 1000000 / $(getconf CLK_TCK) / requests ))"
}
log "A: $a_ref ${a_env[*]}; B: $b_ref ${b_env[*]}; $mode$rate_note, $warmup s warm-up each, $rounds rounds of ${seconds} s bursts"
burst a "$warmup" "wa$RANDOM" >/dev/null
burst b "$warmup" "wb$RANDOM" >/dev/null
mkdir -p "$BENCH/results"
results="$BENCH/results/ab-$(date -u +%Y-%m-%dT%H%M%SZ).txt"  # kept (git-ignored), one line per burst
echo "round build req/s p99_ms cpu_us_per_event"
echo "# A: $a_ref ${a_env[*]}; B: $b_ref ${b_env[*]}; $mode$rate_note" >"$results"
for round in $(seq "$rounds"); do
  order=(a b); (( round % 2 )) || order=(b a)
  for name in "${order[@]}"; do
    echo "$round ${name^^} $(burst "$name" "$seconds" "r$round$name$RANDOM")"
  done
done | tee -a "$results"
for name in A B; do
  echo "$name median: $(awk -v n=$name '$2 == n { print $3 }' "$results" | median) req/s," \
    "p99 $(awk -v n=$name '$2 == n { print $4 }' "$results" | median) ms," \
    "$(awk -v n=$name '$2 == n { print $5 }' "$results" | median) µs CPU per event"
done
echo "rounds B did more req/s than A: $(awk '!/^#/ { r[$1, $2] = $3 } END { for (i = 1; i <= '"$rounds"'; i++) if (r[i, "B"] > r[i, "A"]) w++; print w + 0 }' "$results") of $rounds"
