# syntax=docker/dockerfile:1
# demo-seed: the demo-session service (HTTP API, BullMQ workers, CLI) in one image.
#   docker build -t demo-seed:dev .
#   docker run --rm demo-seed:dev --help
# The entrypoint is the `demo-seed` CLI; the command picks the role: start (default), api,
# worker [--services a,b], migrate, create --profile P, destroy ID, validate, generate.

ARG NODE_VERSION=20

# ---- build: every dependency, TypeScript compiled to dist/ ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only (tsx is one: bin/demo-seed.js falls back to it) ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DEMO_SEED_USE_DIST=1
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY bin ./bin
COPY migrations ./migrations
COPY seed-data ./seed-data
COPY --from=build /app/dist ./dist
# The demo page's HTML, CSS and script (GET /demo), read from src/api/demo-page/ under the package root.
COPY src/api/demo-page ./src/api/demo-page
# The image's node user (uid 1000), by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
# 8000: HTTP API, /metrics and Bull Board (PORT); 8001: a worker's /healthz and /readyz (WORKER_HEALTH_PORT).
EXPOSE 8000 8001
# Healthy when whichever server the command runs answers /healthz (API, worker, or both for start).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=[process.env.PORT||8000,process.env.WORKER_HEALTH_PORT||8001];Promise.any(p.map(x=>fetch('http://127.0.0.1:'+x+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>{if(!r.ok)throw new Error(String(r.status))}))).then(()=>process.exit(0),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/demo-seed.js"]
CMD ["start"]
