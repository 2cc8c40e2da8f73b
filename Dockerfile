# syntax=docker/dockerfile:1
# PlantPulse: the platform (default command) and the edge agent (`node dist/edge-agent/cli.js`)
# in one image. docker-compose.yml builds it; by hand: docker build -t plantpulse .
# Checked without Docker by test/unit/deploy/compose.test.ts (COPY sources, .dockerignore).

# ---- build: compile TypeScript, then drop dev dependencies ----------------------------------
FROM node:20-bookworm-slim AS build
# better-sqlite3 is a native module: npm compiles it with node-gyp when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY edge-agent ./edge-agent
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: same base image (the compiled better-sqlite3 needs the same glibc and Node ABI) --
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PP_HTTP_HOST=0.0.0.0 \
    PP_DATA_DIR=/var/lib/plantpulse
WORKDIR /app
# package.json: "type": "module" makes dist/**/*.js ES modules.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time: the agent's Modbus register profiles and the live dashboard (/dashboard/).
COPY edge-agent/profiles ./edge-agent/profiles
COPY dashboards/web ./dashboards/web
# State (alerts, tokens, webhook outbox, spool) lives in PP_DATA_DIR: give it a volume.
RUN mkdir -p /var/lib/plantpulse && chown node:node /var/lib/plantpulse
USER node
VOLUME ["/var/lib/plantpulse"]
EXPOSE 8080
# Ready = broker connected, storage answering, spool not overflowing (docs/operations.md).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PP_HTTP_PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: stop intake, flush buffered data (PP_SHUTDOWN_TIMEOUT_MS), exit. Give it the time:
# compose sets stop_grace_period above that timeout.
# V8's heap growth is set by the platform itself at start (PP_HEAP_GROWTH_PERCENT, src/app/heap.ts),
# not by a flag here: every way of starting it gets the same setting. The young generation's size
# is fixed by V8 when the process starts, so it is a flag: START_NODE_FLAGS in src/app/heap.ts.
CMD ["node", "--max-semi-space-size=8", "dist/src/main.js"]
