# syntax=docker/dockerfile:1
# Tickflow: one image for every component; the entrypoint is the `tickflow` CLI and the Helm chart
# picks the subcommand (produce, aggregate, dashboard, migrate, operator).
#   docker build -t tickflow .        (skaffold builds it for you: see docs/kubernetes.md)
#
# The build stage runs scripts/build-image-tree.sh, which the test suite also runs and checks
# (test/k8s/image-tree.int.test.ts): npm ci with the Kafka client's native build, workspace builds,
# production dependencies only, tests and build leftovers removed. Node 24 runs the TypeScript
# sources directly, so the image ships sources + production node_modules.
# Debian bookworm in both stages: the native addon links the same libraries it finds at run time.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# node-gyp toolchain, and the -dev packages librdkafka links dynamically (TLS, SASL, zstd, lz4, zlib)
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates python3 make g++ \
      libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The npm cache and the dependency cache (node_modules keyed by package-lock.json + package.json
# files) survive between builds, so a source-only change does not rebuild librdkafka.
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=cache,target=/var/cache/tickflow-deps \
    scripts/build-image-tree.sh --src /src --out /app --deps-cache /var/cache/tickflow-deps

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to Node (whose shutdown drains and commits) and reaps zombies.
# The shared libraries of the Kafka client's addon (checked against `ldd` by the test suite).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tini ca-certificates \
      libssl3 libsasl2-2 libzstd1 liblz4-1 zlib1g libstdc++6 libgcc-s1 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    TMPDIR=/tmp
WORKDIR /app
# root-owned and read-only for the app user: works with readOnlyRootFilesystem (only /tmp is written)
COPY --from=build /app /app
# the node image's `node` user, numeric so that runAsNonRoot can verify it
USER 1000:1000
# METRICS_PORT (/healthz, /readyz, /metrics) of producer and aggregators; DASHBOARD_PORT
EXPOSE 9464 8080
LABEL org.opencontainers.image.title="tickflow" \
      org.opencontainers.image.description="Real-time market-data pipeline: producer, aggregators, dashboard, migrations" \
      org.opencontainers.image.licenses="Apache-2.0"
ENTRYPOINT ["/usr/bin/tini", "-g", "--", "node", "/app/apps/cli/bin/tickflow.js"]
CMD ["--help"]
