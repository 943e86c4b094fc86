# shellcheck shell=bash
# Shared by up, down, status, logs, migrate and test: where things live and which services exist.
# A profile (dev, test, bench or chaos) selects a state folder and ports, so `npm test`, a benchmark and a chaos run
# can each run beside a running suite.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROFILE="${ORDERFLOW_PROFILE:-dev}"

if [[ "$PROFILE" == test ]]; then
  : "${ORDERFLOW_STATE_DIR:=$ROOT/.orderflow/test}"
  : "${ORDERFLOW_PG_PORT:=55432}"
  : "${ORDERFLOW_AMQP_PORT:=55672}"
  : "${ORDERFLOW_MANAGEMENT_PORT:=55673}"
  : "${ORDERFLOW_PROMETHEUS_PORT:=55692}"
  : "${ORDERFLOW_DIST_PORT:=25682}"
  : "${ORDERFLOW_EPMD_PORT:=4371}"
  : "${ORDERFLOW_HTTP_PORT_BASE:=3100}"
elif [[ "$PROFILE" == chaos ]]; then
  : "${ORDERFLOW_STATE_DIR:=$ROOT/.orderflow/chaos}"
  : "${ORDERFLOW_PG_PORT:=54432}"
  : "${ORDERFLOW_AMQP_PORT:=54672}"
  : "${ORDERFLOW_MANAGEMENT_PORT:=54673}"
  : "${ORDERFLOW_PROMETHEUS_PORT:=54692}"
  : "${ORDERFLOW_DIST_PORT:=25662}"
  : "${ORDERFLOW_EPMD_PORT:=4376}"
  : "${ORDERFLOW_HTTP_PORT_BASE:=3600}"
elif [[ "$PROFILE" == bench ]]; then
  : "${ORDERFLOW_STATE_DIR:=$ROOT/.orderflow/bench}"
  : "${ORDERFLOW_PG_PORT:=56432}"
  : "${ORDERFLOW_AMQP_PORT:=56672}"
  : "${ORDERFLOW_MANAGEMENT_PORT:=56673}"
  : "${ORDERFLOW_PROMETHEUS_PORT:=56692}"
  : "${ORDERFLOW_DIST_PORT:=25692}"
  : "${ORDERFLOW_EPMD_PORT:=4372}"
  : "${ORDERFLOW_HTTP_PORT_BASE:=3200}"
else
  : "${ORDERFLOW_STATE_DIR:=$ROOT/.orderflow/dev}"
  : "${ORDERFLOW_PG_PORT:=5432}"
  : "${ORDERFLOW_AMQP_PORT:=5672}"
  : "${ORDERFLOW_MANAGEMENT_PORT:=15672}"
  : "${ORDERFLOW_PROMETHEUS_PORT:=15692}"
  : "${ORDERFLOW_DIST_PORT:=25672}"
  : "${ORDERFLOW_EPMD_PORT:=4370}"
  : "${ORDERFLOW_HTTP_PORT_BASE:=3000}"
fi

STATE="$ORDERFLOW_STATE_DIR"
RUN_DIR="$STATE/run"
LOG_DIR="$STATE/logs"
SECRETS_FILE="$STATE/secrets.env"
SERVICES_ENV="$STATE/services.env"
VHOST=orderflow

# service short name : app folder : offset from the HTTP port base
SERVICE_TABLE=(
  "order:order-service:0"
  "payment:payment-service:1"
  "warehouse:warehouse-service:2"
  "logistics:logistics-service:3"
  "saga:saga-orchestrator:4"
)

service_names() { local row; for row in "${SERVICE_TABLE[@]}"; do echo "${row%%:*}"; done; }
service_app() { local row; for row in "${SERVICE_TABLE[@]}"; do [[ "${row%%:*}" == "$1" ]] && { row="${row#*:}"; echo "${row%%:*}"; return; }; done; return 1; }
service_port() { local row; for row in "${SERVICE_TABLE[@]}"; do [[ "${row%%:*}" == "$1" ]] && { echo $((ORDERFLOW_HTTP_PORT_BASE + ${row##*:})); return; }; done; return 1; }
service_main() { local app; app="$(service_app "$1")"; echo "$ROOT/dist/apps/$app/apps/$app/src/main.js"; }

# The third parties' simulators (development and tests only): name : folder under simulators/ : port offset.
SIMULATOR_TABLE=(
  "payment-gateway:payment-gateway:10"
  "carrier:carrier:11"
)
simulator_names() { local row; for row in "${SIMULATOR_TABLE[@]}"; do echo "${row%%:*}"; done; }
simulator_port() { local row; for row in "${SIMULATOR_TABLE[@]}"; do [[ "${row%%:*}" == "$1" ]] && { echo $((ORDERFLOW_HTTP_PORT_BASE + ${row##*:})); return; }; done; return 1; }
simulator_main() { local row dir; for row in "${SIMULATOR_TABLE[@]}"; do [[ "${row%%:*}" == "$1" ]] && { dir="${row#*:}"; dir="${dir%%:*}"; echo "$ROOT/dist/simulators/$dir/simulators/$dir/src/main.js"; return; }; done; return 1; }

if [[ -t 1 ]]; then BOLD=$'\e[1m'; DIM=$'\e[2m'; RED=$'\e[31m'; GREEN=$'\e[32m'; RESET=$'\e[0m'; else BOLD=; DIM=; RED=; GREEN=; RESET=; fi
step() { printf '%s==>%s %s\n' "$BOLD" "$RESET" "$*"; }
info() { printf '    %s\n' "$*"; }
fail() { printf '%serror:%s %s\n' "$RED" "$RESET" "$*" >&2; exit 1; }

# A pid file names a process we started; it counts only while that process is alive.
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_until() { # seconds description command...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out waiting for $what"
    sleep 0.5
  done
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32; }
# 32 random bytes in base64: an AES-256 key, or the body of a Standard Webhooks `whsec_` secret.
random_key() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

# The Node the project runs on: the version of its `node` devDependency that the lockfile pins.
project_node_version() {
  sed -n '/"node_modules\/node": {/,/}/s/.*"version": "\([^"]*\)".*/\1/p' "$ROOT/package-lock.json" | head -1
}
lockfile_hash() { sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1; }

# The project's Node, for running npm itself when the caller's Node is older: npm checks every package's `engines`
# against the Node it runs on, and on Node 20 (the README's minimum for starting npm) prints some 190 lines of
# EBADENGINE warnings about packages that only ever run on the project's Node 24. The binary comes from the npm
# registry (the same `node-<platform>-<arch>` package the `node` devDependency installs), kept in .orderflow/toolchain.
project_node_binary() { # prints the path, or nothing when the caller's Node will do
  local version major current platform dir
  version="$(project_node_version)"
  major="${version%%.*}"
  current="$(node -p 'process.versions.node' 2>/dev/null || echo 0)"
  [[ -n "$version" && "${current%%.*}" != "$major" ]] || return 0
  platform="$(node -p 'process.platform + "-" + process.arch' 2>/dev/null)" || return 0
  dir="$ROOT/.orderflow/toolchain/node-$platform-$version"
  if [[ ! -x "$dir/bin/node" ]]; then
    local tmp
    tmp="$(mktemp -d)"
    if ! { (cd "$tmp" && npm pack --silent "node-$platform@$version" >/dev/null 2>&1) &&
      mkdir -p "$dir" && tar -xzf "$tmp"/*.tgz -C "$dir" --strip-components=1 package/bin/node; }; then
      rm -rf "$tmp" "$dir"
      return 0 # no binary for this platform: npm runs on the caller's Node, warnings and all
    fi
    rm -rf "$tmp"
  fi
  echo "$dir/bin/node"
}

# Installs the dependencies when they are missing or the lockfile changed since they were installed (a pull, a
# branch switch), with npm running on the project's Node (above).
ensure_node_modules() {
  local stamp="$ROOT/node_modules/.orderflow-lockfile-sha256" why=""
  if [[ ! -x "$ROOT/node_modules/.bin/nest" || ! -x "$ROOT/node_modules/.bin/node" ]]; then
    why="installing dependencies"
  elif [[ "$(cat "$stamp" 2>/dev/null)" != "$(lockfile_hash)" ]]; then
    why="package-lock.json changed since the last install: reinstalling dependencies"
  fi
  if [[ -n "$why" ]]; then
    local node_binary npm_cli
    node_binary="$(project_node_binary)"
    npm_cli="$(readlink -f "$(command -v npm)")"
    step "$why (npm ci, on Node $("${node_binary:-node}" -p 'process.versions.node'))"
    if [[ -n "$node_binary" && "$npm_cli" == *.js ]]; then
      (cd "$ROOT" && PATH="$(dirname "$node_binary"):$PATH" "$node_binary" "$npm_cli" ci --no-fund --no-audit)
    else
      (cd "$ROOT" && npm ci --no-fund --no-audit)
    fi || fail "npm ci failed"
    lockfile_hash >"$stamp"
  fi
  # npm scripts put node_modules/.bin first on PATH; plain `bash scripts/…` gets the same Node 24.
  export PATH="$ROOT/node_modules/.bin:$PATH"
}

# Secrets are made once per state folder and kept there (mode 600), never in the repository.
load_secrets() {
  mkdir -p "$STATE"
  if [[ ! -f "$SECRETS_FILE" ]]; then
    umask 077
    {
      echo "PG_ADMIN_USER=orderflow_admin"
      echo "PG_ADMIN_PASSWORD=$(random_secret)"
      echo "RABBITMQ_ADMIN_USER=orderflow-admin"
      echo "RABBITMQ_ADMIN_PASSWORD=$(random_secret)"
      local svc
      for svc in $(service_names); do
        echo "PG_PASSWORD_${svc}=$(random_secret)"
        echo "AMQP_PASSWORD_${svc}=$(random_secret)"
      done
    } >"$SECRETS_FILE"
    umask 022
  fi
  # Secrets added by later versions are appended to an existing state folder, keeping the ones it has.
  # shellcheck disable=SC1090
  source "$SECRETS_FILE"
  {
    [[ -n "${ORDERFLOW_OPERATOR_TOKEN:-}" ]] || echo "ORDERFLOW_OPERATOR_TOKEN=oft_$(random_secret)$(random_secret)"
    [[ -n "${SECRETS_ENCRYPTION_KEY:-}" ]] || echo "SECRETS_ENCRYPTION_KEY=$(random_key)"
    [[ -n "${PAYMENT_TOKEN_KEY:-}" ]] || echo "PAYMENT_TOKEN_KEY=$(random_key)"
    [[ -n "${PAYMENT_GATEWAY_WEBHOOK_SECRET:-}" ]] || echo "PAYMENT_GATEWAY_WEBHOOK_SECRET=whsec_$(random_key)"
    [[ -n "${CARRIER_WEBHOOK_SECRET:-}" ]] || echo "CARRIER_WEBHOOK_SECRET=whsec_$(random_key)"
    local svc migrator_var
    for svc in $(service_names); do
      migrator_var="PG_MIGRATOR_PASSWORD_${svc}"
      [[ -n "${!migrator_var:-}" ]] || echo "${migrator_var}=$(random_secret)"
    done
  } >>"$SECRETS_FILE"
  # shellcheck disable=SC1090
  source "$SECRETS_FILE"
}
