#!/bin/sh
# docker compose's one-shot broker set-up, the same steps as scripts/lib/infra.sh rabbitmq_provision: the orderflow
# vhost, the topology from definitions.json, and one user per service with the generated permissions in
# permissions/: it may send only what it owns (its own commands and events, retries and dead letters only to its
# own queues: topic permissions, one line per exchange) and read its own queues, but declare nothing. Safe to run
# again: every call is idempotent.
set -eu

api() { # method path [curl options…]
  method="$1" path="$2"
  shift 2
  curl -fsS -o /dev/null -u "$RABBITMQ_ADMIN_USER:$RABBITMQ_ADMIN_PASSWORD" -H 'content-type: application/json' \
    -X "$method" "http://rabbitmq:15672/api$path" "$@"
}

# The management API answers a little after the AMQP port the broker's health check looks at.
attempts=0
until api GET /overview 2>/dev/null; do
  attempts=$((attempts + 1))
  [ "$attempts" -lt 60 ] || { echo "the RabbitMQ management API did not answer" >&2; exit 1; }
  sleep 2
done

api PUT /vhosts/orderflow --data '{"description":"orderflow","default_queue_type":"quorum"}'
api PUT "/permissions/orderflow/$RABBITMQ_ADMIN_USER" --data '{"configure":".*","write":".*","read":".*"}'
# Every orderflow exchange is a topic exchange (ADR 0016); earlier versions declared three of them direct, and
# RabbitMQ cannot change an exchange's type: one of another type is deleted, and the import declares it again.
for exchange in orderflow.commands orderflow.retry orderflow.dead-letters; do
  declared="$(curl -fsS -u "$RABBITMQ_ADMIN_USER:$RABBITMQ_ADMIN_PASSWORD" \
    "http://rabbitmq:15672/api/exchanges/orderflow/$exchange" 2>/dev/null)" || continue
  case "$declared" in *'"type":"topic"'*) ;; *) api DELETE "/exchanges/orderflow/$exchange" ;; esac
done
api POST /definitions --data @/etc/orderflow/definitions.json

for svc in order payment warehouse logistics saga; do
  password_var="$(echo "$svc" | tr '[:lower:]' '[:upper:]')_AMQP_PASSWORD"
  password="$(printenv "$password_var")" || { echo "$password_var is not set" >&2; exit 1; }
  api PUT "/users/$svc" --data "{\"password\":\"$password\",\"tags\":\"\"}"
  api PUT "/permissions/orderflow/$svc" --data "@/etc/orderflow/permissions/$svc.json"
  while IFS= read -r permission; do
    api PUT "/topic-permissions/orderflow/$svc" --data "$permission"
  done <"/etc/orderflow/permissions/$svc.topic.jsonl"
  echo "broker user $svc: ready"
done
