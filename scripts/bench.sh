#!/usr/bin/env bash
# npm run bench -- <name> [options]: one benchmark against real infrastructure brought up the way `npm run up` does
# it, in the bench profile (its own state folder and ports, so it runs beside a dev suite and a test run). Whatever
# this script started is stopped on exit; the benchmark drops the databases and vhost it made.
#   npm run bench -- messaging [options]   reliable messaging core vs the unsafe way vs the broker ceiling
#                                          (options: npm run bench -- messaging --help)
export ORDERFLOW_PROFILE=bench
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"

benchmarks=(messaging)

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
mkdir -p "$RUN_DIR" "$LOG_DIR"

started_infra=
cleanup() {
  local status=$?
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
export ORDERFLOW_STATE_DIR
step "benchmark: $name"
tsx "$ROOT/bench/$name.ts" "$@"
