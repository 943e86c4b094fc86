#!/usr/bin/env bash
# npm run migrate [-- service…]: applies each service's pending migrations to its own database.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
source "$ROOT/scripts/lib/services.sh"

ensure_node_modules
[[ -f "$SERVICES_ENV" ]] || fail "no infrastructure for profile '$PROFILE' yet: run 'npm run up' first"
names=("$@")
((${#names[@]})) || mapfile -t names < <(service_names)
mkdir -p "$LOG_DIR"
build_services
migrate_services "${names[@]}"
