#!/usr/bin/env bash
# bash scripts/test-infra.sh up|down: keeps the test profile's PostgreSQL and RabbitMQ running between test runs
# (npm test then leaves them up, since it did not start them).
export ORDERFLOW_PROFILE=test
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
case "${1:-}" in
  up) infra_up ;;
  down) infra_down ;;
  *) fail "usage: test-infra.sh up|down" ;;
esac
