#!/usr/bin/env bash
# npm run dead-letters -- <service> summary|list|replay …: see scripts/dead-letters.ts. Uses the running suite's
# credentials for that service (profile dev unless ORDERFLOW_PROFILE says otherwise), or AMQP_URL if given.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
ensure_node_modules
svc="${1:-}"
if [[ -z "${AMQP_URL:-}" ]]; then
  [[ -n "$svc" ]] && service_app "$svc" >/dev/null || fail "usage: npm run dead-letters -- <$(service_names | paste -sd'|')> summary|list|replay …"
  [[ -f "$SERVICES_ENV" ]] || fail "no running suite for profile '$PROFILE': run 'npm run up', or set AMQP_URL"
  # shellcheck disable=SC1090
  source "$SERVICES_ENV"
  var="$(upper "$svc")_AMQP_URL"
  export AMQP_URL="${!var}"
fi
exec tsx "$ROOT/scripts/dead-letters.ts" "$@"
