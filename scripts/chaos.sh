#!/usr/bin/env bash
# npm run chaos -- [options]: orders through the REST API while services, simulators, the broker and the database are
# killed and restarted at random, then checks that every order ended right, once (chaos/run.ts; options:
# npm run chaos -- --help). Runs in the chaos profile (its own state folder and ports, beside a dev suite, a test run
# and a benchmark), whose infrastructure it starts, restarts as faults, and stops on exit if it started it.
export ORDERFLOW_PROFILE=chaos
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
source "$ROOT/scripts/lib/services.sh"
source "$ROOT/scripts/lib/amqp-client.sh"

ensure_node_modules
if [[ " $* " == *" --help "* || " $* " == *" -h "* ]]; then exec tsx "$ROOT/chaos/run.ts" "$@"; fi
mkdir -p "$RUN_DIR" "$LOG_DIR"

started_infra=
cleanup() {
  local status=$? pidfile
  # The driver stops what it started; these pid files catch a driver that died first.
  for pidfile in "$RUN_DIR"/chaos-*.pid; do
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
ensure_pika
set -a
# shellcheck disable=SC1090
source "$SERVICES_ENV"
set +a
export ORDERFLOW_STATE_DIR LOG_DIR RUN_DIR
build_services
step "chaos"
tsx "$ROOT/chaos/run.ts" "$@"
