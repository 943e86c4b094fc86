#!/usr/bin/env bash
# bash scripts/broker-ctl.sh restart|stop|start: stops and/or starts the profile's own broker (ORDERFLOW_PROFILE,
# default dev), keeping its data — what the reliability tests use to restart RabbitMQ under load, or to keep it away
# for a while.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"

action="${1:-}"
[[ "$action" =~ ^(restart|stop|start)$ ]] || fail "usage: broker-ctl.sh restart|stop|start"
load_secrets
case "$(cat "$(infra_mode_file)" 2>/dev/null)" in
  local)
    [[ "$action" == start ]] || rabbitmq_local_stop
    [[ "$action" == stop ]] || rabbitmq_local_start
    ;;
  docker) compose "$action" rabbitmq ;;
  *) fail "no broker of profile '$PROFILE' was started by this project" ;;
esac
