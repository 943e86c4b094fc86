# shellcheck shell=bash
# Infrastructure for one profile: PostgreSQL and RabbitMQ, resolved in this order —
#   (a) external: URLs given by the environment are used as they are (DATABASE_BASE_URL or <SERVICE>_DATABASE_URL;
#       AMQP_URL or <SERVICE>_AMQP_URL), and nothing is started or provisioned for that part;
#   (b) docker: when a Docker engine answers, deploy/docker-compose.infra.yml;
#   (c) local: Debian's PostgreSQL 15 binaries and rabbitmq-server, with data under the profile's state folder.
# Then one database and login role per service, and the vhost with one broker user per service, are provisioned,
# and services.env records each service's DATABASE_URL and AMQP_URL.

PG_BIN="${ORDERFLOW_PG_BIN:-/usr/lib/postgresql/15/bin}"
RABBITMQ_SERVER="/usr/lib/rabbitmq/bin/rabbitmq-server"
RABBITMQ_CTL="/usr/lib/rabbitmq/bin/rabbitmqctl"
PG_DIR="$STATE/postgres"
RABBITMQ_DIR="$STATE/rabbitmq"
RABBITMQ_NODE="orderflow-$PROFILE@localhost"
COMPOSE_FILE="$ROOT/deploy/docker-compose.infra.yml"
COMPOSE_PROJECT="orderflow-$PROFILE"

upper() { tr '[:lower:]' '[:upper:]' <<<"$1"; }

pg_external() {
  [[ -n "${DATABASE_BASE_URL:-}" ]] && return 0
  local svc; for svc in $(service_names); do local var; var="$(upper "$svc")_DATABASE_URL"; [[ -n "${!var:-}" ]] && return 0; done
  return 1
}
amqp_external() {
  [[ -n "${AMQP_URL:-}" ]] && return 0
  local svc; for svc in $(service_names); do local var; var="$(upper "$svc")_AMQP_URL"; [[ -n "${!var:-}" ]] && return 0; done
  return 1
}
docker_engine() { [[ "${ORDERFLOW_NO_DOCKER:-}" != 1 ]] && command -v docker >/dev/null && docker info >/dev/null 2>&1; }

infra_mode_file() { echo "$STATE/infra.mode"; }

# ---------- (c) local PostgreSQL ----------
as_postgres() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }

# The bench profile counts statements per database (npm run bench -- suite) with pg_stat_statements.
pg_profile_options() { [[ "$PROFILE" == bench ]] && echo " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"; return 0; }

pg_local_start() {
  [[ -x "$PG_BIN/initdb" ]] || { step "installing PostgreSQL 15 (apt)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; }
  mkdir -p "$PG_DIR"
  ((EUID == 0)) && chown postgres: "$PG_DIR"
  if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
    step "initialising PostgreSQL in ${PG_DIR#"$ROOT"/}"
    local pwfile="$PG_DIR/.pwfile"
    printf '%s\n' "$PG_ADMIN_PASSWORD" >"$pwfile"
    ((EUID == 0)) && chown postgres: "$pwfile"
    chmod 600 "$pwfile"
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_ADMIN_USER" --pwfile="$pwfile" \
      --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; rm -f "$pwfile"; fail "initdb failed"; }
    rm -f "$pwfile"
  fi
  if as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    info "PostgreSQL already running on port $ORDERFLOW_PG_PORT"
  else
    port_open "$ORDERFLOW_PG_PORT" && fail "port $ORDERFLOW_PG_PORT is taken by another process; set ORDERFLOW_PG_PORT, or DATABASE_BASE_URL to use that server"
    step "starting PostgreSQL on 127.0.0.1:$ORDERFLOW_PG_PORT"
    mkdir -p "$PG_DIR/socket"; ((EUID == 0)) && chown postgres: "$PG_DIR/socket"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-c port=$ORDERFLOW_PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR/socket -c max_connections=300$(pg_profile_options)" \
      start >/dev/null || { tail -20 "$PG_DIR/postgres.log" >&2; fail "PostgreSQL did not start"; }
  fi
  head -1 "$PG_DIR/data/postmaster.pid" >"$RUN_DIR/postgres.pid"
}

pg_local_stop() { # [fast|immediate]
  [[ -f "$PG_DIR/data/postmaster.pid" ]] || return 0
  step "stopping PostgreSQL (${1:-fast})"
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w stop >/dev/null || true
  rm -f "$RUN_DIR/postgres.pid"
}

# ---------- (c) local RabbitMQ ----------
rabbitmq_env() {
  env HOME="$RABBITMQ_DIR/home" RABBITMQ_MNESIA_BASE="$RABBITMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RABBITMQ_DIR/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$RABBITMQ_DIR/enabled_plugins" RABBITMQ_NODENAME="$RABBITMQ_NODE" \
    RABBITMQ_CONFIG_FILE="$RABBITMQ_DIR/rabbitmq" RABBITMQ_PID_FILE="$RUN_DIR/rabbitmq.pid" \
    RABBITMQ_NODE_PORT="$ORDERFLOW_AMQP_PORT" RABBITMQ_DIST_PORT="$ORDERFLOW_DIST_PORT" ERL_EPMD_PORT="$ORDERFLOW_EPMD_PORT" \
    ERL_CRASH_DUMP="$RABBITMQ_DIR/log/erl_crash.dump" "$@"
}
# The CLI is an Erlang node of its own: it must not be given the server's ports, or while the server boots it can
# take the server's distribution port itself (seen as dist_port_already_used at start-up).
rabbitmqctl_local() {
  env HOME="$RABBITMQ_DIR/home" RABBITMQ_NODENAME="$RABBITMQ_NODE" ERL_EPMD_PORT="$ORDERFLOW_EPMD_PORT" \
    "$RABBITMQ_CTL" -n "$RABBITMQ_NODE" "$@"
}

rabbitmq_local_start() {
  [[ -x "$RABBITMQ_SERVER" ]] || { step "installing RabbitMQ (apt)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null; }
  if pid_alive "$RUN_DIR/rabbitmq.pid"; then
    info "RabbitMQ already running on port $ORDERFLOW_AMQP_PORT"
    return
  fi
  port_open "$ORDERFLOW_AMQP_PORT" && fail "port $ORDERFLOW_AMQP_PORT is taken by another process; set ORDERFLOW_AMQP_PORT, or AMQP_URL to use that broker"
  mkdir -p "$RABBITMQ_DIR/home" "$RABBITMQ_DIR/mnesia" "$RABBITMQ_DIR/log"
  echo '[rabbitmq_management,rabbitmq_prometheus,rabbitmq_shovel,rabbitmq_shovel_management,rabbitmq_consistent_hash_exchange].' \
    >"$RABBITMQ_DIR/enabled_plugins"
  # default_user applies only when the node's database is first created; the password lives in secrets.env. The
  # topology is imported right after start through the management API (rabbitmq_provision), not with
  # load_definitions at boot: a boot import stops RabbitMQ from creating the default user.
  (
    umask 077
    cat >"$RABBITMQ_DIR/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$ORDERFLOW_AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $ORDERFLOW_MANAGEMENT_PORT
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $ORDERFLOW_PROMETHEUS_PORT
default_user = $RABBITMQ_ADMIN_USER
default_pass = $RABBITMQ_ADMIN_PASSWORD
default_user_tags.administrator = true
default_vhost = $VHOST
loopback_users = none
log.console = false
log.file.level = info
vm_memory_high_watermark.relative = 0.4
collect_statistics_interval = $([[ "$PROFILE" == test ]] && echo 1000 || echo 5000)
disk_free_limit.absolute = 200MB
CONF
  )
  step "starting RabbitMQ on 127.0.0.1:$ORDERFLOW_AMQP_PORT (management on :$ORDERFLOW_MANAGEMENT_PORT)"
  rabbitmq_env nohup "$RABBITMQ_SERVER" >"$LOG_DIR/rabbitmq.out" 2>&1 &
  local launcher=$! deadline=$((SECONDS + 120))
  # await_startup answers at once while the node is not yet known to epmd, so ask until it is.
  until rabbitmqctl_local await_startup --timeout 10 >/dev/null 2>&1; do
    if ! kill -0 "$launcher" 2>/dev/null || ((SECONDS >= deadline)); then
      tail -30 "$LOG_DIR/rabbitmq.out" >&2
      fail "RabbitMQ did not start (logs: ${LOG_DIR#"$ROOT"/}/rabbitmq.out, ${RABBITMQ_DIR#"$ROOT"/}/log)"
    fi
    sleep 1
  done
}

rabbitmq_local_stop() {
  if pid_alive "$RUN_DIR/rabbitmq.pid"; then
    step "stopping RabbitMQ"
    rabbitmqctl_local stop "$RUN_DIR/rabbitmq.pid" >/dev/null 2>&1 || kill "$(cat "$RUN_DIR/rabbitmq.pid")" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/rabbitmq.pid"
  # The node's sockets can outlive its pid file by a moment; a restart must not find its own ports taken.
  local deadline=$((SECONDS + 30))
  while { port_open "$ORDERFLOW_AMQP_PORT" || port_open "$ORDERFLOW_DIST_PORT"; } && ((SECONDS < deadline)); do sleep 0.5; done
  # The Erlang port mapper was started on this profile's own port; it exits only if no node still uses it.
  local epmd
  epmd="$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -1)"
  [[ -n "$epmd" ]] && "$epmd" -port "$ORDERFLOW_EPMD_PORT" -kill >/dev/null 2>&1 || true
}

# ---------- (b) docker compose ----------
compose() {
  PG_ADMIN_USER="$PG_ADMIN_USER" PG_ADMIN_PASSWORD="$PG_ADMIN_PASSWORD" \
    RABBITMQ_ADMIN_USER="$RABBITMQ_ADMIN_USER" RABBITMQ_ADMIN_PASSWORD="$RABBITMQ_ADMIN_PASSWORD" \
    ORDERFLOW_PG_PORT="$ORDERFLOW_PG_PORT" ORDERFLOW_AMQP_PORT="$ORDERFLOW_AMQP_PORT" \
    ORDERFLOW_MANAGEMENT_PORT="$ORDERFLOW_MANAGEMENT_PORT" ORDERFLOW_PROMETHEUS_PORT="$ORDERFLOW_PROMETHEUS_PORT" \
    docker compose -p "$COMPOSE_PROJECT" -f "$COMPOSE_FILE" "$@"
}

# ---------- provisioning (any mode we started) ----------
pg_admin_url() { echo "postgresql://$PG_ADMIN_USER:$PG_ADMIN_PASSWORD@127.0.0.1:$ORDERFLOW_PG_PORT/postgres"; }

pg_provision() {
  step "provisioning one database and one login role per service"
  local svc sql=""
  for svc in $(service_names); do
    local role="orderflow_$svc" password_var="PG_PASSWORD_$svc"
    sql+="
SELECT format('CREATE ROLE %I LOGIN', '$role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role')\\gexec
ALTER ROLE $role WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${!password_var}';
SELECT format('CREATE DATABASE %I OWNER %I', '$role', '$role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$role')\\gexec
REVOKE ALL ON DATABASE $role FROM PUBLIC;"
  done
  psql "$(pg_admin_url)" -v ON_ERROR_STOP=1 -q -X >/dev/null <<<"$sql" || fail "could not provision PostgreSQL"
}

management() { # method path [json]
  curl -fsS -u "$RABBITMQ_ADMIN_USER:$RABBITMQ_ADMIN_PASSWORD" -H 'content-type: application/json' \
    -X "$1" "http://127.0.0.1:$ORDERFLOW_MANAGEMENT_PORT/api$2" ${3:+--data "$3"}
}

management_answers() { management GET /overview >/dev/null 2>&1; }

rabbitmq_provision() {
  step "provisioning the '$VHOST' vhost and one broker user per service"
  wait_until 60 "the RabbitMQ management API" management_answers
  management PUT "/vhosts/$VHOST" '{"description":"orderflow","default_queue_type":"quorum"}' >/dev/null
  management PUT "/permissions/$VHOST/$RABBITMQ_ADMIN_USER" '{"configure":".*","write":".*","read":".*"}' >/dev/null
  # The topology: exchanges, quorum queues with their DLQs, bindings and policies, generated from the contracts.
  management POST /definitions "@$ROOT/deploy/rabbitmq/definitions.json" >/dev/null
  local svc
  for svc in $(service_names); do
    local password_var="AMQP_PASSWORD_$svc"
    management PUT "/users/$svc" "{\"password\":\"${!password_var}\",\"tags\":\"\"}" >/dev/null
    # deploy/rabbitmq/permissions/ (generated from the routing): services declare nothing, write only to
    # orderflow's exchanges and only their own events, and read only their own queues.
    management PUT "/permissions/$VHOST/$svc" "@$ROOT/deploy/rabbitmq/permissions/$svc.json" >/dev/null
    management PUT "/topic-permissions/$VHOST/$svc" "@$ROOT/deploy/rabbitmq/permissions/$svc.topic.json" >/dev/null
  done
}

# ---------- entry points ----------
infra_up() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  load_secrets
  local mode
  if docker_engine && ! pg_external && ! amqp_external; then mode=docker; else mode=local; fi
  echo "$mode" >"$(infra_mode_file)"

  if [[ "$mode" == docker ]]; then
    step "starting PostgreSQL and RabbitMQ with docker compose ($COMPOSE_PROJECT)"
    compose up -d --wait
  else
    pg_external || pg_local_start
    amqp_external || rabbitmq_local_start
  fi
  pg_external || { wait_until 60 "PostgreSQL" port_open "$ORDERFLOW_PG_PORT"; pg_provision; }
  amqp_external || rabbitmq_provision
  write_services_env
}

infra_down() {
  local mode
  mode="$(cat "$(infra_mode_file)" 2>/dev/null || echo local)"
  if [[ "$mode" == docker ]]; then
    load_secrets
    step "stopping docker compose project $COMPOSE_PROJECT"
    compose down
  else
    rabbitmq_local_stop
    pg_local_stop
  fi
}

write_services_env() {
  local svc
  {
    echo "# written by scripts/up.sh for profile '$PROFILE'; holds credentials, do not commit"
    pg_external || echo "PG_ADMIN_URL=$(pg_admin_url)"
    amqp_external || {
      echo "AMQP_ADMIN_URL=amqp://$RABBITMQ_ADMIN_USER:$RABBITMQ_ADMIN_PASSWORD@127.0.0.1:$ORDERFLOW_AMQP_PORT/$VHOST"
      echo "RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:$ORDERFLOW_MANAGEMENT_PORT"
      echo "RABBITMQ_ADMIN_USER=$RABBITMQ_ADMIN_USER"
      echo "RABBITMQ_ADMIN_PASSWORD=$RABBITMQ_ADMIN_PASSWORD"
    }
    for svc in $(service_names); do
      local up db_var amqp_var
      up="$(upper "$svc")"; db_var="${up}_DATABASE_URL"; amqp_var="${up}_AMQP_URL"
      if [[ -n "${!db_var:-}" ]]; then echo "${db_var}=${!db_var}"
      elif [[ -n "${DATABASE_BASE_URL:-}" ]]; then echo "${db_var}=${DATABASE_BASE_URL%/}/orderflow_$svc"
      else local pw="PG_PASSWORD_$svc"; echo "${db_var}=postgresql://orderflow_$svc:${!pw}@127.0.0.1:$ORDERFLOW_PG_PORT/orderflow_$svc"
      fi
      if [[ -n "${!amqp_var:-}" ]]; then echo "${amqp_var}=${!amqp_var}"
      elif [[ -n "${AMQP_URL:-}" ]]; then echo "${amqp_var}=$AMQP_URL"
      else local pw="AMQP_PASSWORD_$svc"; echo "${amqp_var}=amqp://$svc:${!pw}@127.0.0.1:$ORDERFLOW_AMQP_PORT/$VHOST"
      fi
      echo "${up}_PORT=$(service_port "$svc")"
    done
    # Application secrets: the operator token every service accepts, the key sealing merchants' webhook secrets,
    # and the secrets the third parties (their simulators here) sign their webhooks with.
    echo "ORDERFLOW_OPERATOR_TOKEN=$ORDERFLOW_OPERATOR_TOKEN"
    echo "SECRETS_ENCRYPTION_KEY=$SECRETS_ENCRYPTION_KEY"
    echo "PAYMENT_GATEWAY_WEBHOOK_SECRET=$PAYMENT_GATEWAY_WEBHOOK_SECRET"
    echo "CARRIER_WEBHOOK_SECRET=$CARRIER_WEBHOOK_SECRET"
  } >"$SERVICES_ENV.tmp"
  chmod 600 "$SERVICES_ENV.tmp"
  mv "$SERVICES_ENV.tmp" "$SERVICES_ENV"
}
