# syntax=docker/dockerfile:1
# One image for all six services: a container's command picks the one it runs,
# `bun <service>/src/index.ts` (compose.yaml sets it for each). Bun runs the TypeScript as it is:
# there is no build step, only a production install.
#
# The Bun version is the one package.json's packageManager pins (1.4.5); the -slim variant is
# Debian without build tools, which is enough: better-sqlite3 ships prebuilt binaries in its
# package, so the install compiles nothing.
ARG BUN_IMAGE=oven/bun:1.4.5-slim

FROM ${BUN_IMAGE} AS deps
WORKDIR /app
# The manifests alone first: the install layer is rebuilt when dependencies change, not at every
# source edit. Every workspace's package.json is needed, or the frozen lockfile does not match.
COPY package.json bun.lock bunfig.toml ./
COPY patches ./patches
COPY shared/package.json shared/
COPY user/package.json user/
COPY product/package.json product/
COPY order/package.json order/
COPY payment/package.json payment/
COPY inventory/package.json inventory/
COPY notification/package.json notification/
COPY e2e/package.json e2e/
RUN bun install --frozen-lockfile --production

FROM ${BUN_IMAGE}
WORKDIR /app
# Safe defaults for an image: production (keys and the admin password must then be given), every
# interface (a container's own), SQLite under /data (a volume per service in compose.yaml).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/data
COPY --from=deps /app/node_modules ./node_modules
COPY package.json bunfig.toml tsconfig.json ./
COPY shared ./shared
COPY user ./user
COPY product ./product
COPY order ./order
COPY payment ./payment
COPY inventory ./inventory
COPY notification ./notification
# node_modules/@mart/* link to the workspaces; e2e's is dangling on purpose (tests stay out).
# /data, /data/keys and /keys exist, owned by the unprivileged user, so named volumes mounted there
# start out as theirs (Docker copies a mount point's ownership into a new, empty volume).
RUN mkdir -p /data/keys /keys && chown -R bun:bun /data /keys && chmod 700 /data /data/keys /keys
# The official image's unprivileged user (uid 1000).
USER bun
EXPOSE 8001 8002 8003 8004 8005 8006
CMD ["sh", "-c", "echo 'choose a service: bun <user|product|order|payment|inventory|notification>/src/index.ts' >&2; exit 64"]
