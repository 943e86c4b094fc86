#!/usr/bin/env bash
# npm run chaos:cluster: the test profile with a three-node RabbitMQ cluster (ORDERFLOW_RABBITMQ_NODES=3), and the
# chaos tests against it (test/chaos/*.chaos-spec.ts): the five services and both simulators under a steady flow of
# orders while the node leading the busiest queues is killed. Not part of npm test: it needs the cluster and minutes
# of load. Leaves the infrastructure as it found it: what this script started, it stops.
#   npm run chaos:cluster [-- vitest args]
export ORDERFLOW_PROFILE=test
export ORDERFLOW_RABBITMQ_NODES="${ORDERFLOW_RABBITMQ_NODES:-3}"
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
source "$ROOT/scripts/lib/services.sh"

((RABBITMQ_NODES >= 3)) || fail "the chaos tests need a cluster of at least three nodes (ORDERFLOW_RABBITMQ_NODES)"
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

[[ -z "$RABBITMQ_RUNNING_NODES" ]] && started_infra=1
infra_up
set -a
# shellcheck disable=SC1090
source "$SERVICES_ENV"
set +a
export ORDERFLOW_TEST_STATE_DIR="$STATE" ORDERFLOW_HTTP_PORT_BASE
build_services
step "chaos tests (RabbitMQ cluster of $RABBITMQ_NODES nodes from :$ORDERFLOW_AMQP_PORT, services on :$ORDERFLOW_HTTP_PORT_BASE)"
vitest run --project chaos "$@"
