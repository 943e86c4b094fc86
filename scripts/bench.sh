#!/usr/bin/env bash
# npm run bench -- <name> [options]: one benchmark against real infrastructure brought up the way `npm run up` does
# it, in the bench profile (its own state folder and ports, so it runs beside a dev suite and a test run). Whatever
# this script started is stopped on exit; the benchmark drops the databases and vhost it made.
#   npm run bench -- messaging [options]   reliable messaging core vs the unsafe way vs the broker ceiling
#                                          (options: npm run bench -- messaging --help)
#   npm run bench -- suite [options]       the five services and both simulators, driven through the REST API:
#                                          peak, paced latency, overload, cost per order, net effects
#                                          (options: npm run bench -- suite --help; ORDERFLOW_BENCH_APPS_ROOT runs
#                                          another checkout's built dist/, e.g. an older commit, with this driver)
export ORDERFLOW_PROFILE=bench
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"

benchmarks=(messaging suite)

usage() {
  echo "usage: npm run bench -- <benchmark> [options]"
  echo "benchmarks: ${benchmarks[*]}"
}

[[ $# -gt 0 ]] || { usage >&2; exit 2; }
name="$1"
shift
if [[ " ${benchmarks[*]} " != *" $name "* ]]; then
  usage >&2
  fail "unknown benchmark '$name'"
fi

ensure_node_modules
# --help needs no infrastructure.
if [[ " $* " == *" --help "* || " $* " == *" -h "* ]]; then exec tsx "$ROOT/bench/$name.ts" "$@"; fi
mkdir -p "$RUN_DIR" "$LOG_DIR"

started_infra=
cleanup() {
  local status=$?
  # The suite bench stops the services it started itself; these pid files catch a driver that died first.
  local pidfile
  for pidfile in "$RUN_DIR"/bench-*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid_alive "$pidfile" && kill -KILL "$(cat "$pidfile")" 2>/dev/null
    rm -f "$pidfile"
  done
  [[ -n "$started_infra" ]] && infra_down >/dev/null 2>&1
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ! -f "$(infra_mode_file)" ]] || ! port_open "$ORDERFLOW_PG_PORT" || ! port_open "$ORDERFLOW_AMQP_PORT"; then
  started_infra=1
fi
infra_up
set -a
# shellcheck disable=SC1090
source "$SERVICES_ENV"
set +a

# The benchmark attributes CPU to this profile's PostgreSQL and RabbitMQ by their pid files in the state folder.
export ORDERFLOW_STATE_DIR LOG_DIR RUN_DIR

if [[ "$name" == suite ]]; then
  source "$ROOT/scripts/lib/services.sh"
  # The services measured: this checkout's, built now, or another checkout's dist/ as it was built there (an older
  # commit in its own worktree), which this script never builds or changes.
  ORDERFLOW_BENCH_APPS_ROOT="$(cd "${ORDERFLOW_BENCH_APPS_ROOT:-$ROOT}" && pwd)"
  export ORDERFLOW_BENCH_APPS_ROOT
  if [[ "$ORDERFLOW_BENCH_APPS_ROOT" == "$ROOT" ]]; then
    build_services
  else
    [[ -d "$ORDERFLOW_BENCH_APPS_ROOT/dist/apps" && -d "$ORDERFLOW_BENCH_APPS_ROOT/dist/simulators" ]] \
      || fail "$ORDERFLOW_BENCH_APPS_ROOT/dist has no built services: run 'npm run build' in that checkout first"
    info "services and simulators from $ORDERFLOW_BENCH_APPS_ROOT/dist (not rebuilt)"
  fi
fi
step "benchmark: $name"
tsx "$ROOT/bench/$name.ts" "$@"
