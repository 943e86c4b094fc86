#!/usr/bin/env bash
# bash scripts/e2e-one.sh <app-folder> [vitest args]: builds one app and runs its e2e tests on the test profile's
# infrastructure, which must already be up (bash scripts/test-infra.sh up). For working on one service; `npm test`
# remains the way to run everything.
export ORDERFLOW_PROFILE=test
source "$(dirname "$0")/lib/common.sh"
app="${1:?usage: e2e-one.sh <app-folder> [vitest args]}"; shift
ensure_node_modules
[[ -f "$SERVICES_ENV" ]] || fail "test infrastructure is not up: bash scripts/test-infra.sh up"
(cd "$ROOT" && nest build "$app" >/dev/null) || fail "build of $app failed"
set -a
# shellcheck disable=SC1090
source "$SERVICES_ENV"
set +a
export ORDERFLOW_HTTP_PORT_BASE
exec vitest run --project e2e "$ROOT/apps/$app" "$@"
