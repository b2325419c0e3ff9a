#!/usr/bin/env bash
# What a grain's life costs the consumer apart from its events (bench/README.md, "A grain's life, measured apart"):
#  1. deactivation: one burst of cart.updated on new carts, then nothing for --idle seconds; the carts leave memory
#     3-4 minutes after their event (CollectionAgeLimit), and the CPU above the idle level while they go, divided by
#     the grains that went, is what one deactivation costs;
#  2. activation: interleaved bursts of cart.updated on 4,000 carts already active and on new carts (each activates a
#     cart grain and reads its state from Redis, then writes it as on an active cart); the difference per event.
#
#   bash bench/lifecycle.sh [--ref REF | --consumer-dll PATH] [--rounds N] [--seconds S] [--idle S] [--priority]
#   (--idle: 300 s by default; under ~250 the wave of deactivations falls outside it and is reported as 0)
#
# The consumer is built as the image ships it (or taken as given), with the image's settings, its own Redis and the
# Cloud Tasks stand-in, as ab.sh runs it. Everything listens on 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
ref=worktree dll="" rounds=5 seconds=6 idle=300 nice=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ref) ref=$2; shift ;;
    --consumer-dll) dll=$(readlink -f "$2"); shift ;;
    --rounds) rounds=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --idle) idle=$2; shift ;;
    --priority) nice=(nice -n -10) ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "lifecycle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[lifecycle %s] %s\n' "$(date +%T)" "$*" >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/pulsecart-lifecycle.XXXXXX")
source "$BENCH/processes.sh"
source "$BENCH/consumer-image.sh"

build_bench_tools
if [ -z "$dll" ]; then
  src=$ROOT
  [ "$ref" = worktree ] || { src="$work/src"; source_at "$ref" "$src"; }
  log "building the consumer from $ref"
  publish_consumer "$src" "$work/publish" "$work/build-consumer.log"
  dll="$work/publish/PulseCart.Consumer.dll"
fi

read -r tasks_port redis http silo gateway < <(driver ports --count 5)
start_tasks_stub "$tasks_port"
start_image_consumer lifecycle "$dll" "$redis" "$http" "$silo" "$gateway" "$tasks_port"
consumer_pid=$started_pid

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system, in clock ticks
tick_us=$(( 1000000 / $(getconf CLK_TCK) ))
grains() { driver grains --gateway-port "$gateway" 2>>"$work/driver.log" | grep -o '"total":[0-9]*' | cut -d: -f2; }
burst() { # carts, id prefix, seconds: prints req/s and the consumer's and Redis's CPU µs per event
  local c0 r0 result requests
  c0=$(ticks "$consumer_pid") r0=$(ticks "$redis_pid")
  result=$(env BENCH_ACTIVE_CARTS="$1" "${nice[@]}" wrk -t 2 -c 64 -d "$3s" --timeout 5s -s "$BENCH/load/push.lua" \
    "http://127.0.0.1:$http/consumer/push" -- active "$2" | grep '^BENCH ')
  requests=$(grep -o '"requests":[0-9]*' <<<"$result" | cut -d: -f2)
  echo "$(grep -o '"rps":[0-9.]*' <<<"$result" | cut -d: -f2)" \
    "$(( ($(ticks "$consumer_pid") - c0) * tick_us / requests ))" "$(( ($(ticks "$redis_pid") - r0) * tick_us / requests ))"
}
run=$RANDOM
log "warming up: 10 s on 4,000 active carts"
burst 2000 "a$run" 10 >/dev/null

# 1. Deactivation. Nothing else arrives; each 10 s the consumer's CPU is read, and the grains held at the two ends.
log "deactivation: one burst of ${seconds} s on new carts, then ${idle} s idle"
read -r rps _ _ < <(burst 1000000000 "d$run" "$seconds")
held=$(grains)
echo "deactivation: ${rps} new carts a second for ${seconds} s; ${held} grains held; CPU ms per 10 s while idle:"
samples=()
for ((t = 10; t <= idle; t += 10)); do
  c0=$(ticks "$consumer_pid"); sleep 10
  samples+=($(( ($(ticks "$consumer_pid") - c0) * tick_us / 1000 )))
done
left=$(grains)
if [ ${#samples[@]} -eq 0 ]; then
  echo "  none: --idle 0 measures no deactivation"
else
  echo "  ${samples[*]}"
  idle_ms=$(printf '%s\n' "${samples[@]}" | median)
  # Counted from 150 s on: before that the only work above the idle level is the collection that follows the burst.
  above=$(printf '%s\n' "${samples[@]}" | awk -v base="$idle_ms" 'NR >= 15 && $1 > 2 * base { s += $1 - base } END { print s + 0 }')
  gone=$(( held - left ))
  echo "  idle level ${idle_ms} ms per 10 s (median); ${gone} grains left memory; ${above} ms above the idle level in the" \
    "samples over twice it from 150 s on: $(( gone > 0 ? above * 1000 / gone : 0 )) µs per deactivation"
fi

# 2. Activation.
echo "round load req/s consumer_us_per_event redis_us_per_event"
for ((round = 1; round <= rounds; round++)); do
  burst 2000 "a$run" 2 >/dev/null # the active carts back in memory
  echo "$round active $(burst 2000 "a$run" "$seconds")"
  echo "$round new $(burst 1000000000 "n$round$run" "$seconds")"
done | tee "$work/rounds.txt"
for load in active new; do
  echo "median $load: $(awk -v l=$load '$2 == l { print $3 }' "$work/rounds.txt" | median) req/s," \
    "consumer $(awk -v l=$load '$2 == l { print $4 }' "$work/rounds.txt" | median) µs," \
    "Redis $(awk -v l=$load '$2 == l { print $5 }' "$work/rounds.txt" | median) µs per event"
done
