# shellcheck shell=bash
# The Mesos master of the dev stack: a SIMULATOR (test/mesos/master-simulator.ts), not Apache
# Mesos, which has moved to the Apache Attic and cannot be installed here. It speaks the v1
# scheduler API on 127.0.0.1:5050 and runs tasks on the stack's dockerd, with two agents on
# 127.0.5.1 and 127.0.5.2. Only `stack.sh start mesos` starts it (not `all`): the tests start
# simulators of their own. Sourced by stack.sh.
MESOS_STATE="$GUST_STATE_DIR/mesos"
MESOS_PID="$MESOS_STATE/pid"
MESOS_LOG="$MESOS_STATE/mesos.log"
MESOS_PORT=5050
MESOS_TIMEOUT=30

mesos_install() {
  # Nothing to download: it is TypeScript of this repository, run with its devDependencies.
  [ -d "$REPO_DIR/node_modules/@swc/core" ] || die "run npm ci first (the simulator runs with @swc/core)"
}

mesos_healthy() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$MESOS_PORT/health" 2>/dev/null; }

mesos_launch() {
  mesos_install
  docker_healthy || docker_start || return 1
  mkdir -p "$MESOS_STATE/work"
  log "starting the SIMULATED Mesos master on 127.0.0.1:$MESOS_PORT (log $MESOS_LOG)"
  start_detached "$MESOS_PID" "$MESOS_LOG" \
    env GUST_MESOS_MASTER="http://127.0.0.1:$MESOS_PORT" node "$REPO_DIR/scripts/run-ts.js" \
    "$REPO_DIR/test/mesos/simulator-main.ts" --work-dir "$MESOS_STATE/work"
}

mesos_start() { service_start mesos "$MESOS_PID" "$MESOS_LOG" "$MESOS_TIMEOUT" mesos_healthy mesos_launch; }
mesos_stop() { stop_pid mesos "$(read_pid "$MESOS_PID" || true)" 20 && rm -f "$MESOS_PID"; }
mesos_status() { service_status mesos "$MESOS_PID" "http://127.0.0.1:$MESOS_PORT (simulator)" mesos_healthy; }
