#!/usr/bin/env bash
# `npm run compose:check`: the compose stack (docker-compose.yml) checked end to end. Builds its
# images (scripts/compose/build-images.sh), brings it up with Debian's docker-compose on the stack's
# dockerd, waits until every service is healthy, checks that the Temporal UI is read-only, issues an API key with the stack's admin tool,
# runs scripts/compose/check.ts (an action created and invoked through the official openwhisk
# client, its activation record read back through the API and from Cassandra), then tears it all
# down and checks that no container, volume, network or listening port of it is left. Prints the
# time of each step and the total. Ports, project name and paths: scripts/compose/lib.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/compose/lib.sh
source scripts/compose/lib.sh

total=$(now_ms)
HEALTH_TIMEOUT=240
PORTS=("$GUST_COMPOSE_PORT" "$GUST_COMPOSE_TEMPORAL_PORT" "$GUST_COMPOSE_TEMPORAL_UI_PORT" "$GUST_COMPOSE_CASSANDRA_PORT"
  "$GUST_COMPOSE_CASSANDRA_STORAGE_PORT" "$GUST_COMPOSE_PROVISIONER_METRICS_PORT" "$GUST_COMPOSE_AGENT_METRICS_PORT")

project_containers() { docker ps -aq --filter "label=com.docker.compose.project=$GUST_COMPOSE_PROJECT"; }
project_volumes() { docker volume ls -q --filter "label=com.docker.compose.project=$GUST_COMPOSE_PROJECT"; }
listening() {
  local port
  for port in "${PORTS[@]}"; do tcp_open 127.0.0.1 "$port" && echo "$port"; done
  return 0
}

# Every service up and healthy (each has a health check in docker-compose.yml).
all_healthy() {
  local ids id state
  ids="$(project_containers)"
  [ "$(wc -w <<<"$ids")" -eq "$services" ] || return 1
  for id in $ids; do
    state="$(docker inspect --format '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")"
    [ "$state" = running/healthy ] || return 1
  done
}

wait_all_healthy() {
  local deadline=$(($(date +%s) + HEALTH_TIMEOUT))
  until all_healthy; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      compose ps >&2 || true
      compose logs --tail=30 >&2 || true
      return 1
    fi
    sleep 2
  done
  compose ps >&2
}

teardown() {
  compose down --volumes --remove-orphans --timeout 30 || return 1
  compose_remove_action_containers
  rm -rf "$GUST_COMPOSE_RUNTIME_DIR"
}

# Nothing of the stack may be left: containers, action containers, volumes, network, listeners.
nothing_left() {
  local containers actions volumes ports
  containers="$(project_containers)" actions="$(compose_action_containers)" volumes="$(project_volumes)" ports="$(listening)"
  if [ -n "$containers$actions$volumes$ports" ]; then
    log "left behind: containers [${containers//$'\n'/ }] action containers [${actions//$'\n'/ }]" \
      "volumes [${volumes//$'\n'/ }] listening ports [${ports//$'\n'/ }]"
    return 1
  fi
  log "nothing left: no container, volume or listening port of $GUST_COMPOSE_PROJECT"
}

up=false
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$up" = true ]; then
    step "compose down (and the stack's action containers)" teardown || rc=1
    step "nothing left behind" nothing_left || rc=1
  fi
  if [ "$rc" -eq 0 ]; then log "compose check passed in $(elapsed_since "$total")"; else log "compose check FAILED (status $rc) after $(elapsed_since "$total")"; fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

step "the stack's dockerd" bash scripts/stack/stack.sh start docker
compose_install
log "$(docker-compose version --short 2>/dev/null || docker-compose version | head -n1) on dockerd $(docker version --format '{{.Server.Version}}') at $DOCKER_HOST"
[ -z "$(project_containers)$(compose_action_containers)" ] ||
  die "a compose stack '$GUST_COMPOSE_PROJECT' is already running (bash scripts/compose/compose.sh down -v), or set GUST_COMPOSE_PROJECT and the ports"
[ -z "$(listening)" ] || die "ports of the compose stack are taken: $(listening | tr '\n' ' ')(set GUST_COMPOSE_*_PORT)"

build_runtime_image
step "compile TypeScript to dist/" npx tsc -p .
step "compose images" bash scripts/compose/build-images.sh
# A master key of this run's own: the stack starts with empty volumes and is removed at the end.
GUST_KEY_ENCRYPTION_KEY="$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("hex"))')"
export GUST_KEY_ENCRYPTION_KEY
mkdir -p "$GUST_COMPOSE_RUNTIME_DIR"
services="$(compose config --services | wc -l)"
up=true
step "compose up" compose up --detach
step "every service healthy" wait_all_healthy
# The UI answers, on loopback, read-only (docker-compose.yml's default).
ui_read_only() {
  curl -fsS --max-time 10 "http://127.0.0.1:$GUST_COMPOSE_TEMPORAL_UI_PORT/api/v1/settings" | grep -q '"DisableWriteActions":true'
}
step "Temporal UI serves, read-only" ui_read_only
key="$(compose exec -T controller /usr/local/bin/node dist/workers/admin.js user create compose-check | tail -n1)"
[[ "$key" =~ ^[0-9a-f-]{36}:[A-Za-z0-9]+$ ]] || die "the admin tool printed no API key: $key"
COMPOSE_APIHOST="http://127.0.0.1:$GUST_COMPOSE_PORT" COMPOSE_API_KEY="$key" COMPOSE_CASSANDRA_PORT="$GUST_COMPOSE_CASSANDRA_PORT" \
  step "invoke through the openwhisk client (scripts/compose/check.ts)" node dist/scripts/compose/check.js
