#!/usr/bin/env bash
# PulseCart Consumer reliability suite (issue 7, part 2): builds the consumer once (Release), then runs four failure
# scenarios against real processes on loopback, each with its own redis-server and free ports, and prints the figures:
#
#   crash           kill -9 of the consumer under load (file sink); restart; redeliver the unacknowledged + 20% of the rest
#   redis-outage    redis-server killed for 10 s under load; redelivery until 204; state read back after a restart
#   sink-outage     webhook sink answering 503 for ~5 s, then 202; one accepted message per idempotency key
#   reminder-crash  50 cart.abandoned, reminders due after 8 s, kill -9 at ~3 s, restart; one reminder per cart
#
#   bench/reliability/run.sh                           # all four (about 3 minutes on 2 cores, plus the build)
#   bench/reliability/run.sh crash sink-outage         # some of them
#   KEEP=1 bench/reliability/run.sh                    # keep the work directory (process logs, message files)
#
# Exits non-zero when any figure is wrong. Needs dotnet, redis-server, redis-cli, python3. Not in CI.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/reliability
cd "$ROOT"

all=(crash redis-outage sink-outage reminder-crash)
scenarios=()
for arg in "$@"; do
  case $arg in
    crash|redis-outage|sink-outage|reminder-crash) scenarios+=("$arg") ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown scenario $arg (one of ${all[*]})" >&2; exit 2 ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=("${all[@]}")

for tool in dotnet redis-server redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/pulsecart-reliability.XXXXXX")
pidfile=$work/pids
driver_pid="" # the build, then each scenario's driver
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  local status=$?
  # The driver stops what it started; this is for when it could not (killed, interrupted). By pid, never by name.
  if [ -n "$driver_pid" ]; then kill "$driver_pid" 2>/dev/null || true; wait "$driver_pid" 2>/dev/null || true; fi
  if [ -s "$pidfile" ]; then
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$pidfile"
  fi
  if [ "${KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

began=$SECONDS
echo "== build src/PulseCart.Consumer (Release)"
# In the background and waited for, so that an interrupt is handled at once rather than after the build.
dotnet build src/PulseCart.Consumer -c Release -nologo -v q >"$work/build.log" 2>&1 &
driver_pid=$!
if ! wait "$driver_pid"; then
  driver_pid=""
  tail -30 "$work/build.log" >&2
  exit 2
fi
driver_pid=""
build_s=$((SECONDS - began))
# Run a copy: others may rebuild bin/Release meanwhile, and the renamed apphost keeps a name-based clean-up elsewhere
# on a shared machine (pkill -f PulseCart.Consumer) from hitting these processes.
cp -a src/PulseCart.Consumer/bin/Release/net10.0 "$work/app"
cp "$work/app/PulseCart.Consumer" "$work/app/pulsecart-reliability-consumer"
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src || commit="$commit + uncommitted src changes"
echo "   built in ${build_s} s; consumer at $commit; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A verdict
failed=0
for scenario in "${scenarios[@]}"; do
  echo
  echo "== $scenario"
  started=$SECONDS
  python3 "$HERE/reliability.py" "$scenario" --app "$work/app" --work "$work" --pidfile "$pidfile" &
  driver_pid=$!
  if wait "$driver_pid"; then verdict[$scenario]="PASS"; else verdict[$scenario]="FAIL"; failed=1; fi
  driver_pid=""
  verdict[$scenario]+=" ($((SECONDS - started)) s)"
done

echo
echo "== summary ($(date -u +%FT%TZ), $((SECONDS - began)) s in all, build ${build_s} s)"
for scenario in "${scenarios[@]}"; do printf '   %-15s %s\n' "$scenario" "${verdict[$scenario]}"; done
exit "$failed"
