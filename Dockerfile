# syntax=docker/dockerfile:1
# One image per app, chosen at build time:
#   docker build --build-arg APP=payment-service -t orderflow/payment-service .
# APP is a project of nest-cli.json: order-service, payment-service, warehouse-service, logistics-service,
# saga-orchestrator, or the development simulators payment-gateway-simulator and carrier-simulator.
# Every image starts its app with `node main.js`; a service's migrations run with `node main.js migrate`.

# The Node release package-lock.json gives the local toolchain (the devDependency `node`), pinned so that a rebuild
# runs what the tests ran (deploy/k8s/manifests.spec.ts refuses a floating tag).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Production dependencies only. --ignore-scripts: no runtime package needs an install script; this skips the
# devDependency `node` (the local toolchain, not needed inside an image that is Node 24 already) and @scarf/scarf's
# telemetry, which package.json's allowScripts turns off as well.
FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY nest-cli.json tsconfig.json ./
COPY libs libs
COPY apps apps
COPY simulators simulators
ARG APP
# The Nest CLI is started with the image's own node: node_modules/.bin/node belongs to the skipped `node` package.
# The app's output goes to /out/dist and /out/main.js imports its entry, so every image starts the same way.
RUN set -eu; \
    case "${APP:-}" in \
      order-service|payment-service|warehouse-service|logistics-service|saga-orchestrator) \
        entry="dist/apps/$APP/apps/$APP/src/main.js"; out="dist/apps/$APP" ;; \
      payment-gateway-simulator|carrier-simulator) \
        dir="${APP%-simulator}"; entry="dist/simulators/$dir/simulators/$dir/src/main.js"; out="dist/simulators/$dir" ;; \
      *) echo "build argument APP must name an app of nest-cli.json, got '${APP:-}'" >&2; exit 64 ;; \
    esac; \
    node node_modules/@nestjs/cli/bin/nest.js build "$APP"; \
    test -f "$entry"; \
    mkdir -p "/out/$(dirname "$out")"; \
    cp -R "$out" "/out/$out"; \
    printf "import './%s';\n" "$entry" > /out/main.js

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# package.json makes Node read the compiled .js files as ES modules ("type": "module").
COPY package.json ./
COPY --from=runtime-deps /app/node_modules node_modules
COPY --from=build /out ./
# The commit the image is built from (--build-arg ORDERFLOW_COMMIT=$(git rev-parse HEAD)), for orderflow_build_info;
# left empty, the metric says `unknown`. Late in the stage, so a new commit rebuilds no layer before it.
ARG ORDERFLOW_COMMIT=
ENV ORDERFLOW_COMMIT=${ORDERFLOW_COMMIT}
# The official image's `node` user, by number so that Kubernetes can check runAsNonRoot. The code stays root-owned
# and read-only to the app.
USER 1000:1000
# node is PID 1 and gets SIGTERM itself: every app handles SIGTERM and SIGINT (graceful shutdown) and starts no child
# processes to reap. The base image's entrypoint script is dropped so nothing stands between the runtime and node.
ENTRYPOINT []
CMD ["node", "--enable-source-maps", "main.js"]
