#!/usr/bin/env bash
# bash scripts/db-ctl.sh restart [fast|immediate]: restarts the profile's own PostgreSQL (ORDERFLOW_PROFILE, default
# dev), keeping its data. `fast` (the default) is a clean shutdown: sessions are terminated, what committed is on disk.
# `immediate` is a crash as far as PostgreSQL can tell: no checkpoint, recovery from the WAL at start. What the chaos
# suite uses to restart the database under load.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"

[[ "${1:-}" == restart ]] || fail "usage: db-ctl.sh restart [fast|immediate]"
mode="${2:-fast}"
[[ "$mode" == fast || "$mode" == immediate ]] || fail "usage: db-ctl.sh restart [fast|immediate]"
case "$(cat "$(infra_mode_file)" 2>/dev/null)" in
  local)
    # pg_ctl restart starts the server again with the options it was started with (postmaster.opts).
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -m "$mode" -w -t 60 restart >/dev/null \
      || { tail -20 "$PG_DIR/postgres.log" >&2; fail "PostgreSQL did not restart"; }
    head -1 "$PG_DIR/data/postmaster.pid" >"$RUN_DIR/postgres.pid"
    ;;
  docker)
    # SIGKILL for immediate: the container's PostgreSQL gets no chance to shut down cleanly.
    if [[ "$mode" == immediate ]]; then compose kill -s SIGKILL postgres && compose start postgres; else compose restart postgres; fi
    ;;
  *) fail "no PostgreSQL of profile '$PROFILE' was started by this project" ;;
esac
