#!/usr/bin/env bash
# Two consumer processes on this machine as ONE Orleans cluster (PulseCart:Cluster:Mode=redis, one redis-server for
# membership and grain state), fed the same carts' events alternately, in duplicate and in concurrent identical
# deliveries. Checks that every order is confirmed exactly once across both processes' message files, that each
# abandoned cart has exactly one reminder task, and that /ops/carts/{id} reads the same from either process; then
# (CRASH=1, the default) kills one process with SIGKILL, redelivers everything to the survivor and checks again.
# Prints the figures; exits non-zero on any duplicate, loss or disagreement.
#
#   tests/cluster/two-silos.sh                 # 200 carts
#   CARTS=50 CRASH=0 tests/cluster/two-silos.sh
#   KEEP=1 tests/cluster/two-silos.sh          # keep logs and message files (path printed at the end)
set -euo pipefail
cd "$(dirname "$0")/../.."

CARTS=${CARTS:-200}
CRASH=${CRASH:-1}
work=$(mktemp -d /tmp/pulsecart-two-silos.XXXXXX)
declare -A pids=()

cleanup() {
  for name in "${!pids[@]}"; do
    kill "${pids[$name]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Distinct free loopback ports, held open together while chosen: asked for one after the other, the kernel may hand out
# a port it has just released again.
free_ports() {
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))' "$1"
}

for tool in redis-server redis-cli python3 curl; do
  command -v "$tool" >/dev/null || { echo "two-silos.sh: $tool is required" >&2; exit 2; }
done

echo "== build (Release)"
if ! dotnet build src/PulseCart.Consumer/PulseCart.Consumer.csproj -c Release -nologo -v q >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  exit 2
fi
dll=src/PulseCart.Consumer/bin/Release/net10.0/PulseCart.Consumer.dll

read -r -a ports < <(free_ports 7) # Redis, then HTTP, silo and gateway for each of the two consumers
redis_port=${ports[0]}
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no >"$work/redis.log" 2>&1 &
pids[redis]=$!
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis="127.0.0.1:$redis_port,abortConnect=false"

declare -A http=()
start_consumer() {
  local name=$1 first=$2
  http[$name]=${ports[$first]}
  local silo=${ports[$((first + 1))]} gateway=${ports[$((first + 2))]}
  # A reminder must not fall due during the run: each process also runs the embedded Cloud Tasks emulator, and both
  # would dispatch from the one Redis store (see the report printed below).
  env ASPNETCORE_ENVIRONMENT=Development \
    PORT="${http[$name]}" \
    PulseCart__Redis="$redis" \
    PulseCart__Cluster__Mode=redis \
    PulseCart__Cluster__SiloPort="$silo" \
    PulseCart__Cluster__GatewayPort="$gateway" \
    PulseCart__Messaging__Sink=file \
    PulseCart__Messaging__FilePath="$work/messages-$name.jsonl" \
    PulseCart__Reminders__Delay=01:00:00 \
    Logging__LogLevel__Default=Warning \
    dotnet "$dll" >"$work/consumer-$name.log" 2>&1 &
  pids[$name]=$!
  echo "   consumer $name: pid ${pids[$name]}, http ${http[$name]}, silo $silo, gateway $gateway"
}

wait_ready() {
  local name=$1 deadline=$((SECONDS + 90))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${http[$name]}/health/ready")" = 200 ]; do
    if ! kill -0 "${pids[$name]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "two-silos.sh: consumer $name never became ready; its log:" >&2
      tail -50 "$work/consumer-$name.log" >&2
      exit 1
    fi
    sleep 0.5
  done
}

echo "== start redis-server :$redis_port and two consumers in one cluster"
started=$SECONDS
start_consumer a 1
start_consumer b 4
wait_ready a
wait_ready b
echo "   both ready after $((SECONDS - started)) s; membership rows in Redis (pulsecart/members/pulsecart):"
redis-cli -p "$redis_port" --raw hkeys pulsecart/members/pulsecart | grep -v '^Version$' | sed 's/^/     /'

run=$(date +%s)
driver=(python3 tests/cluster/two_silos.py --run "$run" --carts "$CARTS" --redis-port "$redis_port"
  --messages "$work/messages-a.jsonl" "$work/messages-b.jsonl")

echo "== deliveries to both processes"
"${driver[@]}" deliver --to "http://127.0.0.1:${http[a]}" "http://127.0.0.1:${http[b]}"

if [ "$CRASH" = 1 ]; then
  echo "== SIGKILL consumer b (pid ${pids[b]}); everything redelivered to a, plus purchases of the still-abandoned carts"
  kill -9 "${pids[b]}"
  wait "${pids[b]}" 2>/dev/null || true
  unset 'pids[b]'
  "${driver[@]}" after-crash --to "http://127.0.0.1:${http[a]}"
fi

echo "two-silos.sh: no duplicate, no loss"
