#!/usr/bin/env bash
# `npm start`: Gust in one process (controller, provisioner, agent) plus a Temporal dev server
# that workers/all-in-one.ts starts as its child. This script prepares what that needs, and
# stops dockerd again afterwards if it was the one to start it: nothing is left running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/stack/lib.sh
source scripts/stack/lib.sh
# shellcheck source=scripts/stack/docker.sh
source scripts/stack/docker.sh
# shellcheck source=scripts/stack/temporal.sh
source scripts/stack/temporal.sh

total=$(now_ms)

# Production mode never runs actions without isolation (audit H9): no process backend, no fallback.
production=false
[ "${GUST_PRODUCTION:-false}" = true ] && production=true
if [ "$production" = true ] && [ "${GUST_BACKEND:-docker}" = process ]; then
  die "GUST_PRODUCTION=true refuses GUST_BACKEND=process: it runs actions without any isolation"
fi

# The Temporal CLI: on PATH or in the cache, else built with Go.
GUST_TEMPORAL_CLI=$(step "Temporal CLI" temporal_binary) || die "no Temporal CLI (see above)"
export GUST_TEMPORAL_CLI
log "Temporal CLI: $GUST_TEMPORAL_CLI"

export GUST_BACKEND="${GUST_BACKEND:-docker}"
started_docker=false
if [ "$GUST_BACKEND" = docker ]; then
  docker_healthy || started_docker=true
  # Docker is optional for a laptop: without it, actions run as local processes (no isolation).
  if (step "dockerd" docker_start); then
    build_runtime_image
  elif [ "$production" = true ]; then
    die "dockerd is not available, and GUST_PRODUCTION=true refuses to fall back to the process backend (no isolation)"
  else
    printf '\n%s\n%s\n%s\n\n' \
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' \
      '!!  Docker is not available: falling back to GUST_BACKEND=process (actions run as   !!' \
      '!!  plain child processes on 127.0.0.1, without isolation). See the messages above. !!' >&2
    export GUST_BACKEND=process
    started_docker=false
  fi
fi

if [ "$GUST_BACKEND" = mesos ]; then
  # The master is a service of its own (in development: the simulator of the dev stack).
  master="${GUST_MESOS_MASTER:-http://127.0.0.1:5050}"
  curl -fsS -o /dev/null --max-time 2 "$master/health" ||
    die "no Mesos master answers at $master: start one (npm run stack -- start mesos starts the simulated master)"
  docker_healthy && build_runtime_image
fi
if [ "$GUST_BACKEND" = kubernetes ]; then
  bash scripts/stack/stack.sh status kubernetes >&2 ||
    die "GUST_BACKEND=kubernetes runs on the stack's cluster: start it first with npm run stack -- start kubernetes"
  # Pods run the runtime image from the node's containerd: build it (if its sources changed) in the
  # stack's dockerd, then the idempotent start imports it into the node (only when it changed).
  build_runtime_image
  step "runtime image on the node" bash scripts/stack/stack.sh start kubernetes >&2 ||
    die "could not import the runtime image into the node (see above)"
fi

step "compile TypeScript to dist/" npx tsc -p . || die "tsc failed"
[ -f dist/workers/all-in-one.js ] || die "dist/workers/all-in-one.js is missing: workers/all-in-one.ts does not exist yet"
log "ready in $(elapsed_since "$total"); starting Gust (Ctrl-C stops it)"
if [ "$started_docker" = false ]; then
  # exec: SIGINT/SIGTERM go straight to node, which stops its Temporal child itself.
  exec node dist/workers/all-in-one.js
fi
# Node stops its Temporal child and its containers; this shell then stops the dockerd it started.
node dist/workers/all-in-one.js &
gust=$!
trap 'kill -TERM "$gust" 2>/dev/null || true' INT TERM
rc=0
while kill -0 "$gust" 2>/dev/null; do wait "$gust" || rc=$?; done
bash scripts/stack/stack.sh stop docker
exit "$rc"
