# Sourced by run.sh, ab.sh and lifecycle.sh: the processes a bench script starts, each stopped by its pid when the
# script exits, and its work directory, removed then unless the script failed or keep=1. Needs work=... and log()
# before it is sourced; a nice=(...) array, if set, prefixes every command.
pids=()

# log file, then the command (environment assignments first); the new process's pid is left in $started_pid.
start_process() {
  local log_file=$1; shift
  local -a assignments=()
  while [[ $1 == *=* ]]; do assignments+=("$1"); shift; done
  env "${assignments[@]}" "${nice[@]}" "$@" >"$log_file" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  disown "$started_pid"  # stopped by pid below; no "Killed" notice from bash when one has to be stopped hard
}

stop_processes_on_exit() {
  local status=$? p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [ "${keep:-0}" -eq 1 ] || [ "$status" -ne 0 ]; then log "work directory kept: $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap stop_processes_on_exit EXIT
trap 'exit 130' INT TERM

# Builds bench/Bench.sln (Release) into bench/.artifacts and defines driver() to run bench/Driver; needs BENCH.
build_bench_tools() {
  log "building bench/Bench.sln (Release)"
  dotnet build "$BENCH/Bench.sln" -c Release --artifacts-path "$BENCH/.artifacts" -nologo -v m >"$work/build-bench.log" 2>&1 \
    || { tail -30 "$work/build-bench.log" >&2; exit 1; }
  driver() { dotnet "$BENCH/.artifacts/bin/Driver/release/Driver.dll" "$@"; }
}

# The median of the numbers on stdin, one per line (the mean of the middle two when there are an even number).
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
