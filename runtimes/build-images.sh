#!/usr/bin/env bash
# `npm run image`: builds the action images with `docker import` from a root fs holding this
# machine's node binary (no registry needed):
#   gust/action-nodejs:20    the Node.js runtime (runtimes/nodejs), the image of kind nodejs:20
#   gust/blackbox-echo:test  a foreign runtime for the blackbox tests (runtimes/blackbox-echo)
# Each is rebuilt only when its content hash changes (TypeScript sources, node binary, this
# script); the hash is stored as the image label io.gust.content-hash. The Node.js runtime is also
# compiled into runtimes/nodejs/build/ (what the process backend runs) whenever its sources change.
# Machines that can pull base images may use runtimes/nodejs/Dockerfile instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${DOCKER_HOST:=unix://${GUST_DOCKER_SOCKET:-${GUST_STATE_DIR:-$HOME/.local/state/gust}/docker/docker.sock}}"
export DOCKER_HOST
HASH_LABEL=io.gust.content-hash
NODE_BIN="$(readlink -f "${GUST_NODE_BINARY:-$(command -v node)}")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log() { echo "build-images: $*" >&2; }

# A root fs with node and its libraries (one recipe for every image: scripts/stack/node-rootfs.sh).
make_rootfs() {
  GUST_NODE_BINARY="$NODE_BIN" bash scripts/stack/node-rootfs.sh "$1"
}

# build_image <image> <source dir> <workdir in image> <compile command...>: the command compiles
# the sources into $OUT, and runs only when the image is out of date.
build_image() {
  local image="$1" src="$2" workdir="$3" hash current
  shift 3
  hash="$( (sha256sum "$NODE_BIN" | cut -d' ' -f1; cat "$0"; find "$src" -type f \( -name '*.ts' -o -name '*.json' \) | sort | xargs cat) | sha256sum | cut -c1-16)"
  current="$(docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$image" 2>/dev/null || true)"
  if [ "$current" = "$hash" ]; then
    log "$image is up to date ($hash)"
    return
  fi
  OUT="$WORK/out-${image//[^a-z0-9]/_}"
  "$@"
  local rootfs="$WORK/rootfs-${image//[^a-z0-9]/_}"
  make_rootfs "$rootfs"
  mkdir -p "$rootfs$workdir"
  cp "$OUT"/*.js "$rootfs$workdir/"
  tar -C "$rootfs" -c . | docker import \
    --change "LABEL $HASH_LABEL=$hash" \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
    --change "WORKDIR $workdir" \
    --change "EXPOSE 8080" \
    --change 'CMD ["/usr/local/bin/node", "--expose-gc", "app.js"]' \
    - "$image" >/dev/null
  log "built $image ($hash)"
}

compile_nodejs() {
  npx tsc -p runtimes/nodejs/tsconfig.json
  OUT=runtimes/nodejs/build
}
compile_blackbox_echo() {
  npx tsc --target ES2022 --module commonjs --types node --strict --skipLibCheck --outDir "$OUT" runtimes/blackbox-echo/app.ts
}

# The process backend runs runtimes/nodejs/build directly: keep it as fresh as its sources.
if [ ! -f runtimes/nodejs/build/app.js ] || [ -n "$(find runtimes/nodejs/src runtimes/nodejs/tsconfig.json -newer runtimes/nodejs/build/app.js)" ]; then
  npx tsc -p runtimes/nodejs/tsconfig.json
  log "compiled runtimes/nodejs/build"
fi
build_image gust/action-nodejs:20 runtimes/nodejs/src /nodejsAction compile_nodejs
build_image gust/blackbox-echo:test runtimes/blackbox-echo /blackbox compile_blackbox_echo
