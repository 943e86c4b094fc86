#!/usr/bin/env bash
# bash scripts/broker-ctl.sh restart: stops and starts the profile's own broker (ORDERFLOW_PROFILE, default dev),
# keeping its data — what the reliability tests use to restart RabbitMQ under load.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"

[[ "${1:-}" == restart ]] || fail "usage: broker-ctl.sh restart"
load_secrets
case "$(cat "$(infra_mode_file)" 2>/dev/null)" in
  local) rabbitmq_local_stop && rabbitmq_local_start ;;
  docker) compose restart rabbitmq ;;
  *) fail "no broker of profile '$PROFILE' was started by this project" ;;
esac
