#!/usr/bin/env bash
# Regenerates the TypeScript types of proto/ into src/proto/gen (committed; a test checks they
# are up to date). The options must match src/proto/load.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-src/proto/gen}
rm -rf "$out"
npx proto-loader-gen-types --grpcLib @grpc/grpc-js --longs Number --enums String --defaults --oneofs \
  --importFileExtension .js -I proto -O "$out" $(cd proto && find . -name '*.proto' | sed 's|^\./||' | sort) >/dev/null
