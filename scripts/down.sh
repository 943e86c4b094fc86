#!/usr/bin/env bash
# npm run down: stops exactly what `npm run up` started, by its pid files; data stays for the next `up`.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
source "$ROOT/scripts/lib/services.sh"

mapfile -t SERVICES < <(service_names)
stop_services "${SERVICES[@]}"
stop_simulators
[[ -f "$(infra_mode_file)" ]] && infra_down
rm -f "$(infra_mode_file)"
step "orderflow ($PROFILE) is down"
