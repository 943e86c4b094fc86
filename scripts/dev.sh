#!/usr/bin/env bash
# npm run dev -- <service>: one service in watch mode (rebuilt and restarted on every change), on the
# infrastructure of a running `npm run up`. The background instance of that service is stopped first.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
source "$ROOT/scripts/lib/services.sh"

svc="${1:-}"
[[ -n "$svc" ]] && service_app "$svc" >/dev/null || fail "usage: npm run dev -- <$(service_names | paste -sd'|')>"
[[ -f "$SERVICES_ENV" ]] || fail "no infrastructure yet: run 'npm run up' first"
ensure_node_modules
stop_services "$svc"
step "$svc in watch mode on http://localhost:$(service_port "$svc") (Ctrl-C to stop; 'npm run up' starts it in the background again)"
exec_with_service_env "$svc" --migrates nest start "$(service_app "$svc")" --watch --preserveWatchOutput
