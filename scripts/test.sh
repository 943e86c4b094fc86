#!/usr/bin/env bash
# npm test: every layer, against real infrastructure brought up the way `npm run up` does it, in the test profile
# (its own state folder and ports, so it runs beside a running dev suite). Leaves no process behind: whatever this
# script started is stopped on exit, and the e2e tests stop the service processes they start.
#   npm test                 unit, then integration, then e2e, then the audit of the e2e run's logs
#   npm test -- unit|integration|e2e   one layer (extra arguments go to vitest)
export ORDERFLOW_PROFILE=test
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
source "$ROOT/scripts/lib/services.sh"
source "$ROOT/scripts/lib/browser.sh"
source "$ROOT/scripts/lib/amqp-client.sh"

layers=(unit integration e2e)
if [[ $# -gt 0 && " ${layers[*]} " == *" $1 "* ]]; then layers=("$1"); shift; fi

ensure_node_modules
mkdir -p "$RUN_DIR" "$LOG_DIR"
rm -f "$STATE"/results-*.json

# Each layer also writes vitest's JSON report; the totals are printed as one closing line.
run_layer() { # layer [vitest args]
  local layer="$1"; shift
  vitest run --project "$layer" --reporter=default --reporter=json --outputFile.json="$STATE/results-$layer.json" "$@"
}
print_totals() {
  node -e '
    const fs = require("node:fs");
    let passed = 0, failed = 0, skipped = 0;
    for (const file of process.argv.slice(1)) {
      if (!fs.existsSync(file)) continue;
      const r = JSON.parse(fs.readFileSync(file, "utf8"));
      passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
    }
    console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$STATE"/results-*.json
}

started_infra=
cleanup() {
  local status=$?
  [[ -n "$started_infra" ]] && infra_down >/dev/null 2>&1
  print_totals
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ " ${layers[*]} " == *" unit "* ]]; then
  step "unit tests"
  run_layer unit "$@"
fi

if [[ " ${layers[*]} " == *" integration "* || " ${layers[*]} " == *" e2e "* ]]; then
  if [[ ! -f "$(infra_mode_file)" ]] || ! port_open "$ORDERFLOW_PG_PORT" || ! port_open "$ORDERFLOW_AMQP_PORT"; then
    started_infra=1
  fi
  infra_up
  set -a
  # shellcheck disable=SC1090
  source "$SERVICES_ENV"
  set +a
  export ORDERFLOW_TEST_STATE_DIR="$STATE" ORDERFLOW_HTTP_PORT_BASE
  # Every service's schema, applied by its migration role as `npm run up` does: the integration layer checks what
  # each role may do to it, and the e2e layer starts the services from the same build.
  build_services
  mapfile -t all_services < <(service_names)
  migrate_services "${all_services[@]}"
fi

if [[ " ${layers[*]} " == *" integration "* ]]; then
  step "integration tests (PostgreSQL :$ORDERFLOW_PG_PORT, RabbitMQ :$ORDERFLOW_AMQP_PORT)"
  run_layer integration "$@"
fi

if [[ " ${layers[*]} " == *" e2e "* ]]; then
  ensure_chromium
  ensure_pika
  step "end-to-end tests (services on :$ORDERFLOW_HTTP_PORT_BASE-$((ORDERFLOW_HTTP_PORT_BASE + 4)))"
  # The audit reads what this run's processes logged and which credentials it issued, and nothing older.
  rm -rf "$STATE/captured-logs" "$STATE/issued-secrets.txt"
  e2e_status=0
  run_layer e2e "$@" || e2e_status=$?
  # The audit expects the traffic of the whole layer (every service logged); a run of chosen files skips it.
  if [[ $# -eq 0 ]]; then
    step "audit: no credential in any log line of the end-to-end run"
    run_layer audit
  else
    info "audit of the logs skipped: it runs after the whole end-to-end layer"
  fi
  exit "$e2e_status"
fi
