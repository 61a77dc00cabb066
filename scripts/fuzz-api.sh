#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis (PyPI) from the OpenAPI description the controller serves
# at /api/v1/api-docs (test/fuzz/fuzz-api.ts). Needs the dev stack (Temporal, dockerd) and the
# runtime image, as `npm test` brings up. Schemathesis lives in a venv under $GUST_CACHE_DIR.
#   bash scripts/fuzz-api.sh [min requests (10000)] [max examples per operation (300)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/stack/lib.sh
source scripts/stack/lib.sh

SCHEMATHESIS_VERSION=4.32.5
VENV="$GUST_CACHE_DIR/schemathesis/venv-$SCHEMATHESIS_VERSION"

schemathesis_install() {
  [ -x "$VENV/bin/st" ] && return 0
  command -v python3 >/dev/null || apt_install python3
  python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
}

step "schemathesis" schemathesis_install || die "could not install schemathesis"
exec node scripts/run-ts.js test/fuzz/fuzz-api.ts "$VENV/bin/st" "${1:-10000}" "${2:-300}"
