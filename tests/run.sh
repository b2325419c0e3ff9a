#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what the tests need, then runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v redis-server >/dev/null 2>&1; then
  echo "tests/run.sh: installing redis-server (the Redis tests start their own on a free port)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "tests/run.sh: installing chromium and chromium-driver (the operator page is checked in a real browser)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# The deploy files: schemas, shellcheck, the gcloud script against stand-ins (installs its own linters).
bash deploy/validate.sh

# Google's official Node clients, pinned in tests/official-clients/package-lock.json, which the twins are tested with
# (gcloud is on the machine already); npm ci again only when the lock file changed.
clients=tests/official-clients
lock_sum=$(sha256sum "$clients/package-lock.json" | cut -d' ' -f1)
if [ ! -d "$clients/node_modules" ] || [ "$(cat "$clients/node_modules/.lock-sum" 2>/dev/null)" != "$lock_sum" ]; then
  echo "tests/run.sh: installing the official Node clients (npm ci in $clients)"
  (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" >"$clients/node_modules/.lock-sum"
fi
command -v gcloud >/dev/null 2>&1 || { echo "tests/run.sh: gcloud is needed for the official-client tests" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test PulseCart.sln -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# The steps the Dockerfile runs (the consumer, and the standalone twins' target), proven here since no Docker daemon is at hand.
# The consumer is published self-contained with ReadyToRun as in the image, but not as one composite: that compile takes
# ~5 min on two cores; bench/run.sh and bench/ab.sh publish exactly as the image does. A failed publish prints its output.
publish() {
  local out
  out=$(dotnet publish "$@" -c Release -o "$(mktemp -d)" 2>&1) || { echo "$out" | tail -20; echo "tests/run.sh: dotnet publish $1 failed" >&2; return 1; }
}
if [ "$status" -eq 0 ]; then
  publish src/PulseCart.Consumer/PulseCart.Consumer.csproj -r linux-x64 --self-contained true -p:PublishReadyToRun=true || status=$?
  publish src/PulseCart.Emulators.Host/PulseCart.Emulators.Host.csproj || status=$?
fi

# One closing line over all test projects, in the plain form CI reads.
read -r failed passed skipped < <(grep -oE 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" \
  | awk -F'[:,]' '{ f += $2; p += $4; s += $6 } END { print f+0, p+0, s+0 }')
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "tests/run.sh: no test ran" >&2
  exit 1
fi
exit "$status"
