#!/usr/bin/env bash
# npm run logs [-- service…]: follows the services' JSON logs (all of them, or the ones named).
source "$(dirname "$0")/lib/common.sh"

names=("$@")
((${#names[@]})) || mapfile -t names < <(service_names)
files=()
for svc in "${names[@]}"; do
  service_app "$svc" >/dev/null || fail "unknown service '$svc' (one of: $(service_names | tr '\n' ' '))"
  files+=("$LOG_DIR/$svc.log")
done
exec tail -n "${LINES_BACK:-50}" -F "${files[@]}"
