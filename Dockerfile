# syntax=docker/dockerfile:1
# The UzonCalc sandbox service (`uzoncalc serve`, SPEC §2); the same image runs the API layer (`uzoncalc api`,
# SPEC §3) with another command, as docker-compose.yml does.
#
#   docker build -t uzoncalc .
#   docker run --rm --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
#     -e UZONCALC_TOKEN=change-me -v calc-files:/calc/files -p 127.0.0.1:3346:3346 uzoncalc
#
# The root filesystem is made read-only at run time (--read-only, or read_only: true in compose): the service
# writes nothing, and its serving process runs under Node's permission model with no file writes at all.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency, the sources, `npm run build` into dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- production dependencies only (esbuild bundles sheets at run time; its platform binary comes with it) ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime: dist/, package.json and production node_modules, owned by root, run as the `node` user ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SAFE_DIRS=/calc/files \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# The sheets folder: a volume the service only reads. Owned by `node` so a fresh named volume can be filled
# by a helper container running as that user (see README, "Running the sandbox as a service").
RUN mkdir -p /calc/files && chown node:node /calc/files
# uid/gid 1000 is the image's `node` user; numeric so orchestrators can check it is not root.
USER 1000:1000
VOLUME /calc/files
EXPOSE 3346
# No curl in the slim image: node asks /sandbox/health itself (open without a token).
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:3346,path:'/sandbox/health',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('timeout',()=>process.exit(1)).on('error',()=>process.exit(1))"]
CMD ["node", "dist/cli.js", "serve", "--host", "0.0.0.0"]
