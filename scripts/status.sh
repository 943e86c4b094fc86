#!/usr/bin/env bash
# npm run status: what of this profile is running, and whether each service is ready.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/infra.sh"

row() { printf '    %-12s %-9s %s\n' "$1" "$2" "$3"; }
state() { if "$@"; then echo "${GREEN}up${RESET}"; else echo "${RED}down${RESET}"; fi; }
step "orderflow ($PROFILE), state in ${STATE#"$ROOT"/}"
mode="$(cat "$(infra_mode_file)" 2>/dev/null || echo none)"
row infrastructure "$mode" ""
row postgresql "$(state port_open "$ORDERFLOW_PG_PORT")" "127.0.0.1:$ORDERFLOW_PG_PORT"
if ((RABBITMQ_NODES == 1)); then
  row rabbitmq "$(state port_open "$ORDERFLOW_AMQP_PORT")" "amqp://127.0.0.1:$ORDERFLOW_AMQP_PORT  console http://localhost:$ORDERFLOW_MANAGEMENT_PORT"
else
  for ((i = 1; i <= RABBITMQ_NODES; i++)); do
    rabbitmq_select_node "$i"
    row "rabbit-$i" "$(state port_open "$NODE_AMQP_PORT")" "amqp://127.0.0.1:$NODE_AMQP_PORT  console http://localhost:$NODE_MANAGEMENT_PORT"
  done
fi
for svc in $(service_names); do
  port="$(service_port "$svc")"
  ready="$(curl -fsS "http://127.0.0.1:$port/health/ready" 2>/dev/null)" || ready=
  if [[ "$ready" == *'"status":"degraded"'* ]]; then s="degraded"
  elif [[ -n "$ready" ]]; then s="${GREEN}ready${RESET}"
  elif pid_alive "$RUN_DIR/$svc.pid"; then s="${RED}unready${RESET}"
  else s="${DIM}stopped${RESET}"; fi
  row "$svc" "$s" "http://localhost:$port  pid $(cat "$RUN_DIR/$svc.pid" 2>/dev/null || echo -)"
done
for sim in $(simulator_names); do
  port="$(simulator_port "$sim")"
  if curl -fs -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; then s="${GREEN}up${RESET}"; else s="${DIM}stopped${RESET}"; fi
  row "$sim sim" "$s" "http://localhost:$port"
done
