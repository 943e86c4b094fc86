# shellcheck shell=bash
# The five services as background processes of this profile: build, migrate, start, wait for ready, stop.

build_services() {
  step "building the services"
  (cd "$ROOT" && nest build --all >"$LOG_DIR/build.log" 2>&1) || { cat "$LOG_DIR/build.log" >&2; fail "build failed"; }
}

# Prints the environment one service runs with: its own database, its own broker user, its own port. With
# --migrates (the migrate command, watch mode) it also gets its migration role's URL and applies its migrations;
# without, it never touches its schema (ADR 0017): `up` has migrated before it starts the services.
service_env() { # svc [--migrates]
  local svc="$1" up
  up="$(upper "$svc")"
  # shellcheck disable=SC1090
  source "$SERVICES_ENV"
  local db_var="${up}_DATABASE_URL" amqp_var="${up}_AMQP_URL" port_var="${up}_PORT" migration_var="${up}_MIGRATION_DATABASE_URL"
  if [[ "${2:-}" == --migrates ]]; then
    [[ -n "${!migration_var:-}" ]] && echo "MIGRATION_DATABASE_URL=${!migration_var}"
  else
    echo "DATABASE_MIGRATIONS_RUN=false"
  fi
  printf '%s\n' "DATABASE_URL=${!db_var}" "AMQP_URL=${!amqp_var}" "PORT=${!port_var}" \
    "NODE_ENV=${NODE_ENV:-development}" "LOG_LEVEL=${LOG_LEVEL:-info}" \
    "OPERATOR_TOKENS=${OPERATOR_TOKENS:-$ORDERFLOW_OPERATOR_TOKEN}"
  # Third parties: the simulators, unless the environment names real ones.
  case "$svc" in
    order)
      echo "SECRETS_ENCRYPTION_KEY=$SECRETS_ENCRYPTION_KEY"
      echo "PAYMENT_TOKEN_KEY=$PAYMENT_TOKEN_KEY"
      # Merchants' callback endpoints run on this machine in development and tests.
      echo "CALLBACK_ALLOW_PRIVATE_NETWORKS=${CALLBACK_ALLOW_PRIVATE_NETWORKS:-true}"
      ;;
    payment)
      echo "PAYMENT_GATEWAY_URL=${PAYMENT_GATEWAY_URL:-http://127.0.0.1:$(simulator_port payment-gateway)}"
      echo "PAYMENT_GATEWAY_WEBHOOK_SECRET=$PAYMENT_GATEWAY_WEBHOOK_SECRET"
      echo "PAYMENT_TOKEN_KEY=$PAYMENT_TOKEN_KEY"
      ;;
    logistics)
      echo "CARRIER_URL=${CARRIER_URL:-http://127.0.0.1:$(simulator_port carrier)}"
      echo "CARRIER_WEBHOOK_SECRET=$CARRIER_WEBHOOK_SECRET"
      ;;
    saga)
      # The operator console reaches every service's dead letters, and the order service's notifications, here.
      local other port_of urls=()
      for other in $(service_names); do
        port_of="$(upper "$other")_PORT"
        urls+=("$other=http://127.0.0.1:${!port_of}")
      done
      echo "CONSOLE_SERVICE_URLS=${CONSOLE_SERVICE_URLS:-$(IFS=,; echo "${urls[*]}")}"
      ;;
  esac
}

run_with_service_env() { # svc [--migrates] command...
  local svc="$1" migrates=; shift
  [[ "$1" == --migrates ]] && { migrates="$1"; shift; }
  local -a vars; mapfile -t vars < <(service_env "$svc" ${migrates:+"$migrates"})
  env "${vars[@]}" "$@"
}

# Replaces the calling (sub)shell, so that `$!` of `( exec_with_service_env … ) &` is the service's own pid.
exec_with_service_env() { # svc [--migrates] command...
  local svc="$1" migrates=; shift
  [[ "$1" == --migrates ]] && { migrates="$1"; shift; }
  local -a vars; mapfile -t vars < <(service_env "$svc" ${migrates:+"$migrates"})
  exec env "${vars[@]}" "$@"
}

migrate_services() {
  step "running migrations"
  local svc
  for svc in "$@"; do
    run_with_service_env "$svc" --migrates node "$(service_main "$svc")" migrate >>"$LOG_DIR/migrate.log" 2>&1 \
      || { tail -5 "$LOG_DIR/migrate.log" >&2; fail "migrations of $svc failed (log: ${LOG_DIR#"$ROOT"/}/migrate.log)"; }
    info "$svc: up to date"
  done
}

start_services() {
  step "starting the services"
  local svc
  for svc in "$@"; do
    local pidfile="$RUN_DIR/$svc.pid"
    if pid_alive "$pidfile"; then
      info "$svc already running (pid $(cat "$pidfile")); 'npm run down' first to restart it"
      continue
    fi
    port_open "$(service_port "$svc")" && fail "port $(service_port "$svc") for $svc is taken by another process"
    (exec_with_service_env "$svc" nohup node --enable-source-maps "$(service_main "$svc")") </dev/null >>"$LOG_DIR/$svc.log" 2>&1 &
    echo $! >"$pidfile"
    info "$svc: pid $!, log ${LOG_DIR#"$ROOT"/}/$svc.log"
  done
}

# Ready with every check up: a service answers 200 ("degraded") before its broker connection opens, see
# docs/operations.md#health; `up` waits until its consumers are attached too.
service_ready() { curl -fs "http://127.0.0.1:$(service_port "$1")/health/ready" 2>/dev/null | grep -q '"status":"ok"'; }

# Simulators run only where the environment names no real third party.
start_simulators() {
  local sim
  for sim in $(simulator_names); do
    [[ "$sim" == payment-gateway && -n "${PAYMENT_GATEWAY_URL:-}" ]] && continue
    [[ "$sim" == carrier && -n "${CARRIER_URL:-}" ]] && continue
    local pidfile="$RUN_DIR/$sim.pid"
    pid_alive "$pidfile" && continue
    port_open "$(simulator_port "$sim")" && fail "port $(simulator_port "$sim") for the $sim simulator is taken"
    local secret
    # shellcheck disable=SC1090
    secret="$(source "$SERVICES_ENV"; [[ "$sim" == carrier ]] && echo "$CARRIER_WEBHOOK_SECRET" || echo "$PAYMENT_GATEWAY_WEBHOOK_SECRET")"
    # Its state survives a restart, as a real third party's does (WEBHOOK_DROP_RATE / WEBHOOK_DELAY_MS pass through).
    (PORT="$(simulator_port "$sim")" WEBHOOK_SECRET="$secret" STATE_FILE="$STATE/$sim-simulator.json" \
      exec nohup node "$(simulator_main "$sim")") </dev/null >>"$LOG_DIR/$sim-simulator.log" 2>&1 &
    echo $! >"$pidfile"
    wait_until 20 "the $sim simulator" curl -fs -o /dev/null "http://127.0.0.1:$(simulator_port "$sim")/health"
    info "$sim simulator: http://127.0.0.1:$(simulator_port "$sim")"
  done
}

stop_simulators() {
  local sim
  for sim in $(simulator_names); do
    if pid_alive "$RUN_DIR/$sim.pid"; then kill -TERM "$(cat "$RUN_DIR/$sim.pid")" 2>/dev/null || true; fi
    rm -f "$RUN_DIR/$sim.pid"
  done
}

wait_services_ready() {
  step "waiting for every /health/ready"
  local svc deadline=$((SECONDS + ${ORDERFLOW_READY_TIMEOUT:-120}))
  for svc in "$@"; do
    until service_ready "$svc"; do
      if ! pid_alive "$RUN_DIR/$svc.pid"; then
        tail -20 "$LOG_DIR/$svc.log" >&2
        fail "$svc exited during start-up (log: ${LOG_DIR#"$ROOT"/}/$svc.log)"
      fi
      ((SECONDS < deadline)) || { tail -20 "$LOG_DIR/$svc.log" >&2; fail "$svc not ready in time"; }
      sleep 0.5
    done
    info "${GREEN}ready${RESET}  $svc  http://127.0.0.1:$(service_port "$svc")"
  done
}

stop_services() {
  local svc pids=()
  for svc in "$@"; do
    local pidfile="$RUN_DIR/$svc.pid"
    if pid_alive "$pidfile"; then
      kill -TERM "$(cat "$pidfile")"
      pids+=("$svc")
    fi
  done
  ((${#pids[@]})) && step "stopping ${pids[*]}"
  local deadline=$((SECONDS + 20))
  for svc in "${pids[@]}"; do
    while pid_alive "$RUN_DIR/$svc.pid"; do
      if ((SECONDS >= deadline)); then kill -KILL "$(cat "$RUN_DIR/$svc.pid")" 2>/dev/null || true; break; fi
      sleep 0.2
    done
  done
  for svc in "$@"; do rm -f "$RUN_DIR/$svc.pid"; done
}

# A development merchant and the operator token, kept in the state folder (mode 600) for the README's examples.
# A merchant file whose key no longer works (the database was reset) is replaced.
ensure_dev_credentials() {
  # shellcheck disable=SC1090
  source "$SERVICES_ENV"
  local url="http://127.0.0.1:$(service_port order)" file="$STATE/credentials.env"
  if [[ -f "$file" ]]; then
    # shellcheck disable=SC1090
    source "$file"
    if curl -fs -o /dev/null -H "Authorization: Bearer ${ORDERFLOW_API_KEY:-none}" "$url/orders?limit=1"; then return; fi
  fi
  step "creating a development merchant"
  local answer
  answer="$(curl -fsS -X POST "$url/merchants" -H "Authorization: Bearer $ORDERFLOW_OPERATOR_TOKEN" \
    -H 'content-type: application/json' --data '{"name":"Development merchant"}')" \
    || fail "could not create the development merchant"
  umask 077
  {
    echo "# written by 'npm run up': development credentials, do not commit. Use: source ${file#"$ROOT"/}"
    echo "export ORDERFLOW_URL=http://localhost:$(service_port order)"
    echo "export ORDERFLOW_OPERATOR_TOKEN=$ORDERFLOW_OPERATOR_TOKEN"
    node -e '
      const m = JSON.parse(process.argv[1]);
      console.log(`export ORDERFLOW_MERCHANT_ID=${m.merchantId}`);
      console.log(`export ORDERFLOW_API_KEY=${m.apiKey}`);
      console.log(`export ORDERFLOW_WEBHOOK_SECRET=${m.webhookSecret}`);
    ' "$answer"
  } >"$file.tmp"
  umask 022
  mv "$file.tmp" "$file"
}
