# One image for every Tern binary (package.json "bin"): tern, tern-bgpd, tern-rrd, tern-agentd,
# tern-dnsd, tern-cni, tern-kube-sync.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto proto
COPY src src
COPY daemons daemons
COPY bench bench
COPY fuzz fuzz
COPY test test
COPY native native
COPY scripts/bundle.mjs scripts/bundle.mjs
RUN npm run build && bash native/sockopt/build.sh && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 nftables conntrack bird2 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tern
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
# tern-bgpd's TCP MD5 / GTSM addon; the loader looks for it from dist/ upwards.
COPY --from=build /src/native/sockopt/build/Release/sockopt.node native/sockopt/build/Release/sockopt.node
COPY proto proto
COPY deploy/config /etc/tern
# One wrapper per entry of package.json "bin", so the image always has exactly those commands.
# Each runs its file directly: the file's first line carries the daemon's node flags.
RUN node -e 'const fs = require("fs"); \
      for (const [name, file] of Object.entries(require("./package.json").bin)) \
        fs.writeFileSync("/usr/local/bin/" + name, "#!/bin/sh\nexec /opt/tern/" + file + " \"$@\"\n", { mode: 0o755 });'
