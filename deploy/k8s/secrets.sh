#!/usr/bin/env bash
# Prints the Secrets that deploy/k8s references, made from one env file (secrets.example.env lists its keys):
#   deploy/k8s/secrets.sh secrets.env | kubectl apply -n orderflow -f -
# Each password is typed once; the connection URLs are built from it, so a role and its URL cannot disagree. The
# values reach kubectl through file descriptors, never its command line; nothing is written to disk.
set -euo pipefail
shopt -s inherit_errexit # a failed check inside $(…) stops the script too

KUBECTL="${KUBECTL:-kubectl}"
SERVICES=(order:order-service payment:payment-service warehouse:warehouse-service logistics:logistics-service
  saga:saga-orchestrator)
POSTGRES_HOST=orderflow-postgres-rw:5432 # the CloudNativePG cluster's read-write service (infra/postgres)
RABBITMQ_HOST=orderflow-rabbitmq:5672    # the RabbitmqCluster's client service (infra/rabbitmq)
VHOST=orderflow

fail() { echo "secrets.sh: $*" >&2; exit 1; }
if (($# != 1)) || [[ ! -f "$1" ]]; then fail "usage: $0 <env file>  (see deploy/k8s/secrets.example.env)"; fi
ENV_FILE="$1"

# KEY=VALUE lines, as the example has them; read as data, never sourced as shell.
declare -A env
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  [[ "$line" =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]] || fail "not a KEY=VALUE line: ${line%%=*}…"
  env["${BASH_REMATCH[1]}"]="${BASH_REMATCH[2]}"
done <"$ENV_FILE"

# Secrets that are not secret — the example's change-me… and all-zero values, well-known placeholders, one character
# or one byte repeated — are refused, every one of them named (never its value). The same rules as
# libs/platform/src/config/weak-secrets.ts, which the services apply at start-up; weak-secrets.spec.ts runs both.
PLACEHOLDERS=" changeme changeit password passw0rd secret example placeholder default admin guest letmein test todo xxx "
weak_reason() { # VALUE: why it may not be a secret, or nothing
  local v="$1" lower body chars bytes
  lower="${v,,}"
  [[ "$lower" =~ change[-_\ ]?me ]] && { echo "is an example value (change-me…): generate a random one"; return; }
  body="${v#whsec_}"
  [[ "$PLACEHOLDERS" == *" ${body,,} "* ]] && { echo "is a well-known placeholder: generate a random one"; return; }
  chars="$(printf '%s' "$body" | sed 's/=*$//')"
  if [[ -n "$chars" && -z "${chars//"${chars:0:1}"/}" ]]; then
    echo "repeats one character: generate a random one"
    return
  fi
  if [[ "$body" =~ ^[A-Za-z0-9+/]+={0,2}$ ]] && ((${#body} >= 8 && ${#body} % 4 == 0)); then
    bytes="$(printf '%s' "$body" | base64 -d 2>/dev/null | od -An -v -tx1 | tr -s ' \n' '\n' | sed '/^$/d')" || true
    if (($(printf '%s\n' "$bytes" | wc -l) > 1)) && (($(printf '%s\n' "$bytes" | sort -u | wc -l) == 1)); then
      echo "is one byte repeated (such as an all-zero key): generate a random one"
    fi
  fi
}
weak=0
for key in $(printf "%s\n" "${!env[@]}" | sort); do
  while IFS= read -r item; do # a comma-separated list (OPERATOR_TOKENS) is checked item by item
    reason="$(weak_reason "$item")"
    if [[ -n "$reason" ]]; then
      echo "secrets.sh: $key $reason" >&2
      weak=1
      break
    fi
  done < <(printf '%s\n' "${env[$key]}" | tr ',' '\n')
done
((weak == 0)) || fail "refusing to make Secrets from the values above (see deploy/k8s/secrets.example.env)"

value() { # KEY: its value, which must be set
  [[ -n "${env[$1]:-}" ]] || fail "$1 is missing or empty in $ENV_FILE"
  printf '%s' "${env[$1]}"
}
password() { # KEY: a value that goes into a URL
  local v
  v="$(value "$1")"
  [[ "$v" =~ ^[A-Za-z0-9._~-]+$ ]] || fail "$1 must be URL-safe (letters, digits, . _ ~ -), e.g. openssl rand -hex 24"
  printf '%s' "$v"
}

# secret NAME [--type=…] KEY=VALUE…: one Secret as YAML; the pairs go to kubectl as an env file on a descriptor.
secret() {
  local name="$1"; shift
  local -a options=()
  [[ "$1" == --type=* ]] && { options+=("$1"); shift; }
  echo '---'
  "$KUBECTL" create secret generic "$name" "${options[@]}" --dry-run=client -o yaml \
    --from-env-file=<(printf '%s\n' "$@") | sed '/creationTimestamp: null/d'
}

# Every value is checked before the first Secret is printed, so a bad file prints none; and a failed $(value …) inside
# a command's arguments below would not stop the script by itself.
for row in "${SERVICES[@]}"; do
  up="${row%%:*}"
  password "${up^^}_DB_PASSWORD" >/dev/null
  password "${up^^}_DB_MIGRATOR_PASSWORD" >/dev/null
  password "${up^^}_AMQP_PASSWORD" >/dev/null
done
for key in OPERATOR_TOKENS SECRETS_ENCRYPTION_KEY PAYMENT_TOKEN_KEY PAYMENT_GATEWAY_WEBHOOK_SECRET CARRIER_WEBHOOK_SECRET \
  BACKUP_ACCESS_KEY_ID BACKUP_SECRET_ACCESS_KEY; do
  value "$key" >/dev/null
done

for row in "${SERVICES[@]}"; do
  svc="${row%%:*}" app="${row#*:}"
  up="${svc^^}"
  db_password="$(password "${up}_DB_PASSWORD")"
  migrator_password="$(password "${up}_DB_MIGRATOR_PASSWORD")"
  amqp_password="$(password "${up}_AMQP_PASSWORD")"
  # For the operators: CloudNativePG sets the role's password from this, the topology operator the user's.
  secret "postgres-$svc" --type=kubernetes.io/basic-auth "username=orderflow_$svc" "password=$db_password"
  secret "postgres-$svc-migrator" --type=kubernetes.io/basic-auth "username=orderflow_${svc}_migrator" \
    "password=$migrator_password"
  secret "rabbitmq-$svc" "username=$svc" "password=$amqp_password"
  # For the service.
  pairs=("DATABASE_URL=postgresql://orderflow_$svc:$db_password@$POSTGRES_HOST/orderflow_$svc"
    "AMQP_URL=amqp://$svc:$amqp_password@$RABBITMQ_HOST/$VHOST")
  [[ "$svc" == order ]] && pairs+=("SECRETS_ENCRYPTION_KEY=$(value SECRETS_ENCRYPTION_KEY)")
  secret "$app-secrets" "${pairs[@]}"
  # For its migrate init container alone (ADR 0017).
  secret "$app-migrator" \
    "MIGRATION_DATABASE_URL=postgresql://orderflow_${svc}_migrator:$migrator_password@$POSTGRES_HOST/orderflow_$svc"
done
secret orderflow-operator-tokens "OPERATOR_TOKENS=$(value OPERATOR_TOKENS)"
# Shared by the order service (seals payment tokens) and the payment service (opens them) alone.
secret payment-token-key "PAYMENT_TOKEN_KEY=$(value PAYMENT_TOKEN_KEY)"
# Shared by each service and the third party (or its simulator) that signs with it.
secret payment-gateway-webhook "PAYMENT_GATEWAY_WEBHOOK_SECRET=$(value PAYMENT_GATEWAY_WEBHOOK_SECRET)"
secret carrier-webhook "CARRIER_WEBHOOK_SECRET=$(value CARRIER_WEBHOOK_SECRET)"
# CloudNativePG's access to the backup bucket (overlays/prod/postgres-backup-patch.yaml).
secret postgres-backup "ACCESS_KEY_ID=$(value BACKUP_ACCESS_KEY_ID)" "SECRET_ACCESS_KEY=$(value BACKUP_SECRET_ACCESS_KEY)"
