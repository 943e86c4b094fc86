#!/usr/bin/env bash
# bash scripts/install.sh: the dependencies, installed as `npm run up` and `npm test` install them — npm ci on the
# project's Node (scripts/lib/common.sh, ensure_node_modules), and again only when package-lock.json has changed.
# For CI, and for anyone who wants them without starting anything.
source "$(dirname "$0")/lib/common.sh"
ensure_node_modules
