# shellcheck shell=bash
# Infrastructure for one profile: PostgreSQL and RabbitMQ, resolved in this order —
#   (a) external: URLs given by the environment are used as they are (DATABASE_BASE_URL or <SERVICE>_DATABASE_URL;
#       AMQP_URL or <SERVICE>_AMQP_URL), and nothing is started or provisioned for that part;
#   (b) docker: when a Docker engine answers, deploy/docker-compose.infra.yml;
#   (c) local: Debian's PostgreSQL 15 binaries and rabbitmq-server, with data under the profile's state folder.
# Then one database and login role per service, and the vhost with one broker user per service, are provisioned,
# and services.env records each service's DATABASE_URL and AMQP_URL.
#
# ORDERFLOW_RABBITMQ_NODES=3 (default 1) makes the local RabbitMQ a cluster of that many nodes on this machine, to
# show the suite surviving the loss of a node: rabbit-1..N, each with its own data folder, ports and pid file, one
# Erlang cookie shared through the state folder, joined with `rabbitmqctl join_cluster` before the topology is
# imported, so every quorum queue has a member on every node. services.env then gives each service every node's
# AMQP URL, comma-separated. Node 1 keeps the profile's ports; node i adds RABBITMQ_PORT_STEP × (i−1) to the AMQP,
# management and prometheus ports and i−1 to the distribution port. A cluster always runs on the local binaries.

PG_BIN="${ORDERFLOW_PG_BIN:-/usr/lib/postgresql/15/bin}"
RABBITMQ_SERVER="/usr/lib/rabbitmq/bin/rabbitmq-server"
RABBITMQ_CTL="/usr/lib/rabbitmq/bin/rabbitmqctl"
PG_DIR="$STATE/postgres"
RABBITMQ_QUEUES="/usr/lib/rabbitmq/bin/rabbitmq-queues"
# How many nodes the running local broker has (written by infra_up, removed by infra_down): stopping, restarting or
# reporting on it must find every node, whatever ORDERFLOW_RABBITMQ_NODES the calling shell has.
RABBITMQ_NODES_FILE="$STATE/rabbitmq.nodes"
RABBITMQ_RUNNING_NODES="$(cat "$RABBITMQ_NODES_FILE" 2>/dev/null || echo)"
RABBITMQ_NODES="${ORDERFLOW_RABBITMQ_NODES:-${RABBITMQ_RUNNING_NODES:-1}}"
[[ "$RABBITMQ_NODES" =~ ^[1-9]$ ]] || fail "ORDERFLOW_RABBITMQ_NODES must be a number of nodes from 1 to 9 (3 for a cluster)"
RABBITMQ_PORT_STEP=30
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
# Selects node i (1-based) for the functions below: its name, data folder, pid file and ports. A single node keeps
# the names and folders it always had, so a state folder made before the cluster profile still starts.
rabbitmq_select_node() { # index
  local i="$1"
  if ((RABBITMQ_NODES == 1)); then
    RABBITMQ_NODE="orderflow-$PROFILE@localhost"
    RABBITMQ_DIR="$STATE/rabbitmq"
    RABBITMQ_HOME="$RABBITMQ_DIR/home"
    RABBITMQ_PID_FILE="$RUN_DIR/rabbitmq.pid"
    RABBITMQ_OUT="$LOG_DIR/rabbitmq.out"
  else
    RABBITMQ_NODE="rabbit-$i-$PROFILE@localhost"
    RABBITMQ_DIR="$STATE/rabbitmq-cluster/rabbit-$i"
    # One HOME for every node and the CLI: its .erlang.cookie is the secret that lets the nodes talk to each other.
    RABBITMQ_HOME="$STATE/rabbitmq-cluster/home"
    RABBITMQ_PID_FILE="$RUN_DIR/rabbit-$i.pid"
    RABBITMQ_OUT="$LOG_DIR/rabbit-$i.out"
  fi
  NODE_AMQP_PORT=$((ORDERFLOW_AMQP_PORT + RABBITMQ_PORT_STEP * (i - 1)))
  NODE_MANAGEMENT_PORT=$((ORDERFLOW_MANAGEMENT_PORT + RABBITMQ_PORT_STEP * (i - 1)))
  NODE_PROMETHEUS_PORT=$((ORDERFLOW_PROMETHEUS_PORT + RABBITMQ_PORT_STEP * (i - 1)))
  NODE_DIST_PORT=$((ORDERFLOW_DIST_PORT + i - 1))
}
rabbitmq_select_node 1

rabbitmq_env() {
  env HOME="$RABBITMQ_HOME" RABBITMQ_MNESIA_BASE="$RABBITMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RABBITMQ_DIR/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$RABBITMQ_DIR/enabled_plugins" RABBITMQ_NODENAME="$RABBITMQ_NODE" \
    RABBITMQ_CONFIG_FILE="$RABBITMQ_DIR/rabbitmq" RABBITMQ_PID_FILE="$RABBITMQ_PID_FILE" \
    RABBITMQ_NODE_PORT="$NODE_AMQP_PORT" RABBITMQ_DIST_PORT="$NODE_DIST_PORT" ERL_EPMD_PORT="$ORDERFLOW_EPMD_PORT" \
    ERL_CRASH_DUMP="$RABBITMQ_DIR/log/erl_crash.dump" "$@"
}
# The CLI is an Erlang node of its own: it must not be given the server's ports, or while the server boots it can
# take the server's distribution port itself (seen as dist_port_already_used at start-up).
rabbitmqctl_local() {
  env HOME="$RABBITMQ_HOME" RABBITMQ_NODENAME="$RABBITMQ_NODE" ERL_EPMD_PORT="$ORDERFLOW_EPMD_PORT" \
    "$RABBITMQ_CTL" -n "$RABBITMQ_NODE" "$@"
}
rabbitmq_queues_local() {
  env HOME="$RABBITMQ_HOME" RABBITMQ_NODENAME="$RABBITMQ_NODE" ERL_EPMD_PORT="$ORDERFLOW_EPMD_PORT" \
    "$RABBITMQ_QUEUES" -n "$RABBITMQ_NODE" "$@"
}

# The cluster's Erlang cookie, made once per state folder and readable by its owner only (Erlang refuses others).
rabbitmq_cluster_cookie() {
  local cookie="$RABBITMQ_HOME/.erlang.cookie"
  mkdir -p "$RABBITMQ_HOME"
  if [[ ! -s "$cookie" ]]; then
    (umask 077; head -c 256 /dev/urandom | base64 | tr -dc "A-Z" | head -c 32 >"$cookie")
  fi
  chmod 600 "$cookie"
}

rabbitmq_write_config() {
  mkdir -p "$RABBITMQ_HOME" "$RABBITMQ_DIR/mnesia" "$RABBITMQ_DIR/log"
  echo '[rabbitmq_management,rabbitmq_prometheus,rabbitmq_shovel,rabbitmq_shovel_management,rabbitmq_consistent_hash_exchange].' \
    >"$RABBITMQ_DIR/enabled_plugins"
  # Per-queue series on /metrics (deploy/rabbitmq/rabbitmq.conf says why). default_user applies only when the node's
  # database is first created; the password lives in secrets.env. The
  # topology is imported right after start through the management API (rabbitmq_provision), not with
  # load_definitions at boot: a boot import stops RabbitMQ from creating the default user.
  (
    umask 077
    cat >"$RABBITMQ_DIR/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$NODE_AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $NODE_MANAGEMENT_PORT
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $NODE_PROMETHEUS_PORT
prometheus.return_per_object_metrics = true
default_user = $RABBITMQ_ADMIN_USER
default_pass = $RABBITMQ_ADMIN_PASSWORD
default_user_tags.administrator = true
default_vhost = $VHOST
loopback_users = none
log.console = false
log.file.level = info
vm_memory_high_watermark.relative = $( ((RABBITMQ_NODES == 1)) && echo 0.4 || echo 0.15)
collect_statistics_interval = $([[ "$PROFILE" == test ]] && echo 1000 || echo 5000)
disk_free_limit.absolute = 200MB
CONF
    # A node cut off from the majority stops serving rather than diverge (the operator's default too).
    ((RABBITMQ_NODES == 1)) || echo 'cluster_partition_handling = pause_minority' >>"$RABBITMQ_DIR/rabbitmq.conf"
  )
}

# Launches the selected node in the background; rabbitmq_node_await waits for it.
rabbitmq_node_launch() {
  if pid_alive "$RABBITMQ_PID_FILE"; then
    info "RabbitMQ $RABBITMQ_NODE already running on port $NODE_AMQP_PORT"
    return
  fi
  port_open "$NODE_AMQP_PORT" && fail "port $NODE_AMQP_PORT is taken by another process; set ORDERFLOW_AMQP_PORT, or AMQP_URL to use that broker"
  rabbitmq_write_config
  step "starting RabbitMQ $RABBITMQ_NODE on 127.0.0.1:$NODE_AMQP_PORT (management on :$NODE_MANAGEMENT_PORT)"
  rabbitmq_env nohup "$RABBITMQ_SERVER" >"$RABBITMQ_OUT" 2>&1 &
  echo $! >"$RABBITMQ_PID_FILE.launcher"
}

rabbitmq_node_await() {
  local launcher deadline=$((SECONDS + 180))
  launcher="$(cat "$RABBITMQ_PID_FILE.launcher" 2>/dev/null || echo)"
  # await_startup answers at once while the node is not yet known to epmd, so ask until it is.
  until rabbitmqctl_local await_startup --timeout 10 >/dev/null 2>&1; do
    if { [[ -n "$launcher" ]] && ! kill -0 "$launcher" 2>/dev/null; } || ((SECONDS >= deadline)); then
      tail -30 "$RABBITMQ_OUT" >&2
      fail "RabbitMQ $RABBITMQ_NODE did not start (logs: ${RABBITMQ_OUT#"$ROOT"/}, ${RABBITMQ_DIR#"$ROOT"/}/log)"
    fi
    sleep 1
  done
  rm -f "$RABBITMQ_PID_FILE.launcher"
}

# Starts one node of the cluster again (after it was stopped or killed), keeping its data: it rejoins on its own.
rabbitmq_node_start() { # index
  rabbitmq_select_node "$1"
  rabbitmq_node_launch
  rabbitmq_node_await
  rabbitmq_select_node 1
}

rabbitmq_local_start() {
  [[ -x "$RABBITMQ_SERVER" ]] || { step "installing RabbitMQ (apt)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null; }
  local i
  if ((RABBITMQ_NODES > 1)); then rabbitmq_select_node 1; rabbitmq_cluster_cookie; fi
  # Every node is launched before any is awaited: a node restarted with cluster peers waits for them at boot.
  for ((i = 1; i <= RABBITMQ_NODES; i++)); do rabbitmq_select_node "$i"; rabbitmq_node_launch; done
  for ((i = 1; i <= RABBITMQ_NODES; i++)); do rabbitmq_select_node "$i"; rabbitmq_node_await; done
  rabbitmq_select_node 1
  ((RABBITMQ_NODES == 1)) || rabbitmq_cluster_join
}

# Joins nodes 2..N to node 1, once: a node that already lists node 1 among its cluster's nodes is left alone.
rabbitmq_cluster_join() {
  local first="rabbit-1-$PROFILE@localhost" i
  for ((i = 2; i <= RABBITMQ_NODES; i++)); do
    rabbitmq_select_node "$i"
    if rabbitmqctl_local cluster_status --formatter json 2>/dev/null | grep -q "\"$first\""; then continue; fi
    step "joining $RABBITMQ_NODE to $first"
    { rabbitmqctl_local stop_app && rabbitmqctl_local reset && rabbitmqctl_local join_cluster "$first" \
      && rabbitmqctl_local start_app; } >>"$RABBITMQ_OUT" 2>&1 || { tail -20 "$RABBITMQ_OUT" >&2; fail "$RABBITMQ_NODE could not join $first"; }
  done
  rabbitmq_select_node 1
}

# Quorum queues get a member on every node that was in the cluster when they were declared. Queues declared while the
# cluster was still forming (or before a node was added) are grown here to one member per node; idempotent.
rabbitmq_cluster_grow_queues() {
  ((RABBITMQ_NODES > 1)) || return 0
  local i
  for ((i = 1; i <= RABBITMQ_NODES; i++)); do
    rabbitmq_queues_local grow "rabbit-$i-$PROFILE@localhost" all --vhost-pattern "^$VHOST\$" --queue-pattern '.*' \
      >/dev/null || fail "could not add rabbit-$i's members to the quorum queues"
  done
}

rabbitmq_local_stop() {
  local i
  for ((i = RABBITMQ_NODES; i >= 1; i--)); do
    rabbitmq_select_node "$i"
    if pid_alive "$RABBITMQ_PID_FILE"; then
      step "stopping RabbitMQ $RABBITMQ_NODE"
      rabbitmqctl_local stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || kill "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null || true
    fi
    rm -f "$RABBITMQ_PID_FILE" "$RABBITMQ_PID_FILE.launcher"
    # The node's sockets can outlive its pid file by a moment; a restart must not find its own ports taken.
    local deadline=$((SECONDS + 30))
    while { port_open "$NODE_AMQP_PORT" || port_open "$NODE_DIST_PORT"; } && ((SECONDS < deadline)); do sleep 0.5; done
  done
  rabbitmq_select_node 1
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
  step "provisioning one database and two roles per service (migrations own the schema, the service uses its rows)"
  local svc sql=""
  for svc in $(service_names); do
    local role="orderflow_$svc" migrator="orderflow_${svc}_migrator"
    local password_var="PG_PASSWORD_$svc" migrator_password_var="PG_MIGRATOR_PASSWORD_$svc"
    # The migration role owns the database, so the service's own role holds only what the migrate step grants it
    # (libs/platform/src/database/schema-migration.ts, ADR 0017). A state folder from before the split has the
    # service's role owning everything: ownership moves to the migration role, and the next migrate grants it back.
    sql+="
SELECT format('CREATE ROLE %I LOGIN', '$role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role')\\gexec
ALTER ROLE $role WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${!password_var}';
SELECT format('CREATE ROLE %I LOGIN', '$migrator') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$migrator')\\gexec
ALTER ROLE $migrator WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${!migrator_password_var}';
SELECT format('CREATE DATABASE %I OWNER %I', '$role', '$migrator') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$role')\\gexec
ALTER DATABASE $role OWNER TO $migrator;
REVOKE ALL ON DATABASE $role FROM PUBLIC;
\\connect $role
REASSIGN OWNED BY $role TO $migrator;
\\connect postgres"
  done
  # PUBLIC may connect to the server's own databases by default: a service's role could open a session there and look
  # around the catalogue. Only the administrator (a superuser) needs them.
  sql+="
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;"
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
  # Every orderflow exchange is a topic exchange (ADR 0016); earlier versions declared three of them direct. RabbitMQ
  # cannot change an exchange's type, so one of another type is deleted here, its bindings with it, and the import
  # below declares it again: publishes to it fail for that moment and the outbox relays try them again.
  local exchange
  for exchange in orderflow.commands orderflow.retry orderflow.dead-letters; do
    local declared
    declared="$(management GET "/exchanges/$VHOST/$exchange" 2>/dev/null)" || continue
    [[ "$declared" == *'"type":"topic"'* ]] || management DELETE "/exchanges/$VHOST/$exchange" >/dev/null
  done
  # The topology: exchanges, quorum queues with their DLQs, bindings and policies, generated from the contracts.
  management POST /definitions "@$ROOT/deploy/rabbitmq/definitions.json" >/dev/null
  local svc permission
  for svc in $(service_names); do
    local password_var="AMQP_PASSWORD_$svc"
    management PUT "/users/$svc" "{\"password\":\"${!password_var}\",\"tags\":\"\"}" >/dev/null
    # deploy/rabbitmq/permissions/ (generated from the routing): services declare nothing, read only their own
    # queues, and send only what they own: their own commands and events, retries and dead letters only to their own
    # queues (topic permissions, one line per exchange).
    management PUT "/permissions/$VHOST/$svc" "@$ROOT/deploy/rabbitmq/permissions/$svc.json" >/dev/null
    while IFS= read -r permission; do
      management PUT "/topic-permissions/$VHOST/$svc" "$permission" >/dev/null
    done <"$ROOT/deploy/rabbitmq/permissions/$svc.topic.jsonl"
  done
}

# ---------- entry points ----------
infra_up() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  load_secrets
  local mode
  if [[ -n "$RABBITMQ_RUNNING_NODES" && "$RABBITMQ_RUNNING_NODES" != "$RABBITMQ_NODES" ]]; then
    fail "the $PROFILE profile's RabbitMQ runs $RABBITMQ_RUNNING_NODES node(s), not $RABBITMQ_NODES: stop it first (down, with the same state folder)"
  fi
  if ((RABBITMQ_NODES == 1)) && docker_engine && ! pg_external && ! amqp_external; then mode=docker; else mode=local; fi
  echo "$mode" >"$(infra_mode_file)"

  if [[ "$mode" == docker ]]; then
    step "starting PostgreSQL and RabbitMQ with docker compose ($COMPOSE_PROJECT)"
    compose up -d --wait
  else
    pg_external || pg_local_start
    amqp_external || { rabbitmq_local_start; echo "$RABBITMQ_NODES" >"$RABBITMQ_NODES_FILE"; }
  fi
  pg_external || { wait_until 60 "PostgreSQL" port_open "$ORDERFLOW_PG_PORT"; pg_provision; }
  amqp_external || { rabbitmq_provision; [[ "$mode" == local ]] && rabbitmq_cluster_grow_queues; }
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
    rm -f "$RABBITMQ_NODES_FILE"
    pg_local_stop
  fi
}

# One URL per node, comma-separated: printf format with %s for the port, and which port (amqp or management).
rabbitmq_node_urls() { # format amqp|management
  local i urls=()
  for ((i = 1; i <= RABBITMQ_NODES; i++)); do
    rabbitmq_select_node "$i"
    # shellcheck disable=SC2059
    if [[ "$2" == amqp ]]; then urls+=("$(printf "$1" "$NODE_AMQP_PORT")"); else urls+=("$(printf "$1" "$NODE_MANAGEMENT_PORT")"); fi
  done
  rabbitmq_select_node 1
  (IFS=,; echo "${urls[*]}")
}

write_services_env() {
  local svc
  {
    echo "# written by scripts/up.sh for profile '$PROFILE'; holds credentials, do not commit"
    pg_external || echo "PG_ADMIN_URL=$(pg_admin_url)"
    amqp_external || {
      echo "AMQP_ADMIN_URL=amqp://$RABBITMQ_ADMIN_USER:$RABBITMQ_ADMIN_PASSWORD@127.0.0.1:$ORDERFLOW_AMQP_PORT/$VHOST"
      echo "RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:$ORDERFLOW_MANAGEMENT_PORT"
      echo "RABBITMQ_NODES=$RABBITMQ_NODES"
      # Every node's console, for whoever must keep watching the cluster while a node is down.
      echo "RABBITMQ_MANAGEMENT_URLS=$(rabbitmq_node_urls "http://127.0.0.1:%s" management)"
      echo "RABBITMQ_PROMETHEUS_URL=http://127.0.0.1:$ORDERFLOW_PROMETHEUS_PORT"
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
      # The migration role's URL: ours when we provisioned the database, else the caller's if given (else migrations
      # run as the service's own role, as one-role external databases need).
      local migration_var="${up}_MIGRATION_DATABASE_URL"
      if [[ -n "${!migration_var:-}" ]]; then echo "${migration_var}=${!migration_var}"
      elif ! pg_external; then
        local mpw="PG_MIGRATOR_PASSWORD_$svc"
        echo "${migration_var}=postgresql://orderflow_${svc}_migrator:${!mpw}@127.0.0.1:$ORDERFLOW_PG_PORT/orderflow_$svc"
      fi
      if [[ -n "${!amqp_var:-}" ]]; then echo "${amqp_var}=${!amqp_var}"
      elif [[ -n "${AMQP_URL:-}" ]]; then echo "${amqp_var}=$AMQP_URL"
      else local pw="AMQP_PASSWORD_$svc"; echo "${amqp_var}=$(rabbitmq_node_urls "amqp://$svc:${!pw}@127.0.0.1:%s/$VHOST" amqp)"
      fi
      echo "${up}_PORT=$(service_port "$svc")"
    done
    # Application secrets: the operator token every service accepts, the key sealing merchants' webhook secrets,
    # the key sealing payment tokens between the order and payment services, and the secrets the third parties
    # (their simulators here) sign their webhooks with.
    echo "ORDERFLOW_OPERATOR_TOKEN=$ORDERFLOW_OPERATOR_TOKEN"
    echo "SECRETS_ENCRYPTION_KEY=$SECRETS_ENCRYPTION_KEY"
    echo "PAYMENT_TOKEN_KEY=$PAYMENT_TOKEN_KEY"
    echo "PAYMENT_GATEWAY_WEBHOOK_SECRET=$PAYMENT_GATEWAY_WEBHOOK_SECRET"
    echo "CARRIER_WEBHOOK_SECRET=$CARRIER_WEBHOOK_SECRET"
  } >"$SERVICES_ENV.tmp"
  chmod 600 "$SERVICES_ENV.tmp"
  mv "$SERVICES_ENV.tmp" "$SERVICES_ENV"
}
