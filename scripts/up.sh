#!/usr/bin/env bash
# npm run up: from a fresh clone to five ready services, with infrastructure. Safe to run again.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"
source "$ROOT/scripts/lib/services.sh"

ensure_node_modules
infra_up
build_services
mapfile -t SERVICES < <(service_names)
migrate_services "${SERVICES[@]}"
step "starting the third parties' simulators"
start_simulators
start_services "${SERVICES[@]}"
wait_services_ready "${SERVICES[@]}"
ensure_dev_credentials

# shellcheck disable=SC1090
source "$SERVICES_ENV"
echo
step "orderflow is up"
for svc in "${SERVICES[@]}"; do
  printf '    %-10s API docs  http://localhost:%s/docs\n' "$svc" "$(service_port "$svc")"
done
printf '    operator console  http://localhost:%s/console  (it asks for ORDERFLOW_OPERATOR_TOKEN, below)\n' \
  "$(service_port saga)"
if [[ -n "${RABBITMQ_MANAGEMENT_URL:-}" ]]; then
  printf '    RabbitMQ console  http://localhost:%s  (user %s, password %s)\n' \
    "$ORDERFLOW_MANAGEMENT_PORT" "$RABBITMQ_ADMIN_USER" "$RABBITMQ_ADMIN_PASSWORD"
fi
echo
# shellcheck disable=SC1091
source "$STATE/credentials.env"
echo "    development credentials (kept in ${STATE#"$ROOT"/}/credentials.env; load them with: source ${STATE#"$ROOT"/}/credentials.env)"
printf '      ORDERFLOW_API_KEY=%s   (merchant %s)\n' "$ORDERFLOW_API_KEY" "$ORDERFLOW_MERCHANT_ID"
printf '      ORDERFLOW_OPERATOR_TOKEN=%s\n' "$ORDERFLOW_OPERATOR_TOKEN"
echo
echo "    logs: npm run logs   status: npm run status   stop: npm run down"
