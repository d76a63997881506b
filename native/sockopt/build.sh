#!/usr/bin/env bash
# Builds native/sockopt/build/Release/sockopt.node with node-gyp, offline and idempotently:
# nothing is done when the module is newer than binding.gyp and every source file. Headers
# come from the installed Node (`--nodedir`), so node-gyp never downloads any.
#   bash native/sockopt/build.sh          # build if needed
#   bash native/sockopt/build.sh --force  # rebuild
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/build/Release/sockopt.node"

if [ "$(uname -s)" != Linux ]; then
  echo "sockopt: TCP MD5 and GTSM socket options are Linux-only; not building" >&2
  exit 1
fi

if [ "${1:-}" != --force ] && [ -f "$out" ]; then
  stale=$(find "$here/binding.gyp" "$here/src" -newer "$out" -print -quit)
  if [ -z "$stale" ]; then
    echo "sockopt: up to date ($out)"
    exit 0
  fi
fi

# The headers of the Node that runs the project: Debian's nodejs puts them in
# /usr/include/node, Node's own tarballs (and nvm) in <prefix>/include/node.
nodedir="${npm_config_nodedir:-}"
if [ -z "$nodedir" ]; then
  prefix="$(dirname "$(dirname "$(command -v node)")")"
  for d in "$prefix" /usr /usr/local; do
    if [ -f "$d/include/node/node_api.h" ]; then nodedir="$d"; break; fi
  done
fi
if [ -z "$nodedir" ] || [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "sockopt: Node's C headers (include/node/node_api.h) not found; install them (Debian: libnode-dev, or the nodejs package that ships them) or set npm_config_nodedir" >&2
  exit 1
fi

gyp="$root/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$gyp" ]; then
  echo "sockopt: node-gyp is not installed (npm ci first)" >&2
  exit 1
fi

echo "sockopt: building with headers from $nodedir/include/node"
cd "$here"
node "$gyp" rebuild --nodedir="$nodedir" --loglevel=warn
test -f "$out"
echo "sockopt: built $out"
