#!/usr/bin/env bash
# npm run logs [-- --json] [service…]: follows the services' logs (all of them, or the ones named). On a terminal
# each JSON line is shown formatted for people by pino-pretty (time, level, service, context, message, then the other
# fields); with --json, or when the output is piped, the lines are printed as they are.
source "$(dirname "$0")/lib/common.sh"

raw=
names=()
for arg in "$@"; do
  case "$arg" in
    --json) raw=1 ;;
    -*) fail "unknown option '$arg' (usage: npm run logs -- [--json] [service…])" ;;
    *) names+=("$arg") ;;
  esac
done
((${#names[@]})) || mapfile -t names < <(service_names)
files=()
for svc in "${names[@]}"; do
  service_app "$svc" >/dev/null || fail "unknown service '$svc' (one of: $(service_names | tr '\n' ' '))"
  files+=("$LOG_DIR/$svc.log")
done
follow() { tail -q -n "${LINES_BACK:-50}" -F "${files[@]}" 2>/dev/null; }
if [[ -n "$raw" || ! -t 1 ]]; then
  follow
else
  ensure_node_modules
  follow | pino-pretty --colorize --messageKey message --translateTime 'SYS:HH:MM:ss.l' \
    --ignore service,instance,version,context,pid,hostname \
    --messageFormat '{service} {if context}[{context}] {end}{message}'
fi
