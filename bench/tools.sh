#!/usr/bin/env bash
# Installs the profiling tools bench/README.md's "Profiling" section uses, as .NET global tools (~/.dotnet/tools):
#   dotnet-counters  live runtime counters (GC, allocation rate, thread pool, Kestrel) of a running process
#   dotnet-trace     EventPipe traces (CPU samples, GC and allocation events), viewable in PerfView or speedscope
# and perf (apt: linux-perf) if it is missing. Run it once; re-running updates the tools.
#   bash bench/tools.sh
set -euo pipefail

installed=$(dotnet tool list --global)
for tool in dotnet-counters dotnet-trace; do
  if awk 'NR > 2 {print $1}' <<<"$installed" | grep -qx "$tool"; then
    dotnet tool update --global "$tool"
  else
    dotnet tool install --global "$tool"
  fi
done

if ! command -v perf >/dev/null 2>&1; then
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi

tools="$HOME/.dotnet/tools"
case ":$PATH:" in
  *":$tools:"*) ;;
  *) echo "add the tools to PATH: export PATH=\"\$PATH:$tools\"" ;;
esac
"$tools/dotnet-counters" --version
"$tools/dotnet-trace" --version
