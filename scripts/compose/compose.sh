#!/usr/bin/env bash
# docker-compose on the compose stack (docker-compose.yml) with this machine's settings: the stack's
# dockerd, the compose project name, ports and paths of scripts/compose/lib.sh, a master key.
#   compose.sh up -d | ps | logs -f controller | exec controller dist/workers/admin.js user create NS | down -v
# `down` also removes the action containers the stack's agent made. Build the images first:
# npx tsc -p . && bash scripts/compose/build-images.sh (npm run compose:check does both).
set -euo pipefail
# shellcheck source=scripts/compose/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
compose_install
compose_key
mkdir -p "$GUST_COMPOSE_RUNTIME_DIR"
compose "$@"
if [ "${1:-}" = down ]; then compose_remove_action_containers; fi
