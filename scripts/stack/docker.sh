# shellcheck shell=bash
# Docker service of the dev stack: a private dockerd whose socket, data and exec roots live under
# $GUST_STATE_DIR/docker, so it never touches a system Docker. Sourced by stack.sh and start.sh.

DOCKER_STATE="$GUST_STATE_DIR/docker"
DOCKER_PID="$DOCKER_STATE/pid"
DOCKER_LOG="$DOCKER_STATE/dockerd.log"
DOCKER_SOCK="$DOCKER_STATE/docker.sock" # = GUST_DOCKER_SOCKET's default in common/config.ts
DOCKER_TIMEOUT=60

docker_install() {
  command -v curl >/dev/null || apt_install curl # health checks talk to the socket with curl
  command -v dockerd >/dev/null && return 0
  apt_install docker.io
  command -v dockerd >/dev/null || die "dockerd still missing after installing docker.io"
}

# docker_api METHOD PATH: the Engine API over the unix socket (no docker CLI needed).
docker_api() { curl -fsS --max-time 10 --unix-socket "$DOCKER_SOCK" -X "$1" "http://docker$2"; }

docker_healthy() { [ -S "$DOCKER_SOCK" ] && [ "$(docker_api GET /_ping 2>/dev/null)" = OK ]; }

docker_launch() {
  mkdir -p "$DOCKER_STATE/data" "$DOCKER_STATE/exec"
  log "starting dockerd on unix://$DOCKER_SOCK (log $DOCKER_LOG)"
  # No iptables changes on the host, and published ports bind to 127.0.0.1 only (docker-proxy
  # forwards them). dockerd writes its own pid file; setsid keeps terminal signals away from it.
  setsid dockerd \
    --data-root "$DOCKER_STATE/data" \
    --exec-root "$DOCKER_STATE/exec" \
    -H "unix://$DOCKER_SOCK" \
    --pidfile "$DOCKER_PID" \
    --iptables=false --ip-masq=false --ip=127.0.0.1 \
    >>"$DOCKER_LOG" 2>&1 </dev/null &
  for _ in $(seq 100); do
    [ -s "$DOCKER_PID" ] && return 0
    sleep 0.1
  done
  log "dockerd wrote no pid file; last lines of $DOCKER_LOG:"
  tail -n 20 "$DOCKER_LOG" >&2
  return 1
}

docker_start() {
  docker_install
  service_start docker "$DOCKER_PID" "$DOCKER_LOG" "$DOCKER_TIMEOUT" docker_healthy docker_launch
}

# Containers Gust made carry io.gust.managed=true (common/names.ts); none may outlive the stack.
docker_remove_gust_containers() {
  local json id rc
  json=$(docker_api GET '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22io.gust.managed%3Dtrue%22%5D%7D') || return 1
  for id in $(printf '%s' "$json" | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4 || true); do
    log "removing container ${id:0:12} (io.gust.managed=true)"
    rc=0
    docker_api DELETE "/containers/$id?force=1&v=1" >/dev/null || rc=$?
    if [ "$rc" -eq 28 ]; then
      # Timed out: a wedged daemon (e.g. Debian 20.10's libnetwork deadlock, moby#42545) still
      # answers /_ping but no DELETE. Leave the containers to its stop, not 10 s for each.
      log "dockerd does not remove containers; its stop removes the rest"
      return 1
    fi
  done
}

docker_stop() {
  local pid
  pid=$(read_pid "$DOCKER_PID" || true)
  if pid_alive "$pid" && docker_healthy; then docker_remove_gust_containers || true; fi
  # dockerd stops its containers and its managed containerd on SIGTERM; that takes a while.
  stop_pid dockerd "$pid" 30
  rm -f "$DOCKER_PID"
}

docker_status() { service_status docker "$DOCKER_PID" "unix://$DOCKER_SOCK" docker_healthy; }
