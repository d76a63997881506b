#!/usr/bin/env bash
# Installs what Tern's lab, tests and benchmarks need on Debian 12, idempotently:
# a second run finds everything in place and does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  etcd-server etcd-client     # the datastore (tests start their own on a free loopback port)
  iproute2 nftables procps iputils-ping conntrack  # namespaces, veths, routes, policy, probes, stale UDP flows
  bird2 gobgpd frr            # real BGP peers for interop tests and benchmarks
  knot dnsutils dnsperf       # DNS upstream, dig, load generator
  containernetworking-plugins # reference CNI plugins for chaining tests
  g++ make python3            # the socket-option addon (TCP MD5, GTSM) built by node-gyp
)

missing=()
for p in "${DEB_PACKAGES[@]%%#*}"; do
  [ -z "$p" ] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "setup: must run as root to install packages" >&2; exit 1; fi
  # Packages must not start their daemons (bird, frr, knot, etcd): tests start their own.
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  if [ $had_policy -eq 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $had_policy -eq 0 ] && rm -f "$policy"
fi

# npm dependencies: reinstall only when package-lock.json changed since the last install.
stamp=node_modules/.tern-lock-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# The native socket-option addon (TCP MD5, GTSM) for tern-bgpd; skipped when up to date.
bash native/sockopt/build.sh
