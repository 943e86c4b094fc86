#!/usr/bin/env bash
# bash scripts/postgres-ctl.sh restart|stop [fast|immediate] | start: stops and/or starts the profile's own
# PostgreSQL (ORDERFLOW_PROFILE, default dev), keeping its data — what the reliability tests use to restart the
# database under traffic. `fast` (the default) ends every session cleanly; `immediate` aborts like a crash, and the
# server recovers from its WAL on the next start.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"

action="${1:-}" mode="${2:-fast}"
[[ "$action" =~ ^(restart|stop|start)$ && "$mode" =~ ^(fast|immediate)$ ]] ||
  fail "usage: postgres-ctl.sh restart|stop [fast|immediate] | start"
load_secrets
case "$(cat "$(infra_mode_file)" 2>/dev/null)" in
  local)
    [[ "$action" == start ]] || pg_local_stop "$mode"
    [[ "$action" == stop ]] || pg_local_start
    ;;
  docker)
    # The image's postgres stops on SIGINT in fast mode and on SIGQUIT in immediate mode.
    if [[ "$action" != start ]]; then
      if [[ "$mode" == immediate ]]; then compose kill -s SIGQUIT postgres; else compose stop postgres; fi
    fi
    [[ "$action" == stop ]] || compose start postgres
    ;;
  *) fail "no PostgreSQL of profile '$PROFILE' was started by this project" ;;
esac
