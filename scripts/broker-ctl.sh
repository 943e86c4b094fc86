#!/usr/bin/env bash
# bash scripts/broker-ctl.sh restart | stop | start | start-node <i>: the profile's own broker (ORDERFLOW_PROFILE,
# default dev), keeping its data — what the reliability and chaos tests use to restart RabbitMQ under load, or to keep
# it away for a while.
#   restart        stops and starts the broker (every node of a cluster)
#   stop, start    stops it, or starts it again
#   start-node i   starts node i of a local cluster (ORDERFLOW_RABBITMQ_NODES) again after it was stopped or
#                  killed, and waits until it runs; it rejoins the cluster from its own data
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"

load_secrets
mode="$(cat "$(infra_mode_file)" 2>/dev/null || echo)"
action="${1:-}"
case "$action" in
  restart | stop | start)
    case "$mode" in
      local)
        [[ "$action" == start ]] || rabbitmq_local_stop
        [[ "$action" == stop ]] || rabbitmq_local_start
        ;;
      docker) compose "$action" rabbitmq ;;
      *) fail "no broker of profile '$PROFILE' was started by this project" ;;
    esac
    ;;
  start-node)
    [[ "$mode" == local ]] || fail "no local broker of profile '$PROFILE' was started by this project"
    [[ "${2:-}" =~ ^[1-9]$ ]] && ((${2} <= RABBITMQ_NODES)) || fail "usage: broker-ctl.sh start-node <1..$RABBITMQ_NODES>"
    rabbitmq_node_start "$2"
    ;;
  *) fail "usage: broker-ctl.sh restart | stop | start | start-node <i>" ;;
esac
