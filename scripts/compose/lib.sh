# shellcheck shell=bash
# The compose stack's settings, shared by build-images.sh, compose.sh and scripts/compose-check.sh.
# It runs beside the dev stack on the same machine and the same dockerd, so everything it binds
# differs from the dev stack's (Temporal 7233/8233, Cassandra 9042/7000, controller 3233, worker
# metrics 9464/9465): its own ports, compose project name, data volumes, runtime directory and
# agent host id. Every value can be overridden from the environment; docker-compose.yml reads the
# same variables (with a production host's defaults where a path is concerned).

# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh"
# The jars and the Temporal CLI come from the dev stack's recipes (cassandra_install, temporal_binary).
# shellcheck source=scripts/stack/cassandra.sh
source "$STACK_DIR/cassandra.sh"
# shellcheck source=scripts/stack/temporal.sh
source "$STACK_DIR/temporal.sh"

: "${GUST_COMPOSE_PROJECT:=gust-compose}"
: "${GUST_COMPOSE_PORT:=13233}"
: "${GUST_COMPOSE_TEMPORAL_PORT:=17233}"
: "${GUST_COMPOSE_TEMPORAL_UI_PORT:=18233}"
: "${GUST_COMPOSE_CASSANDRA_PORT:=19042}"
: "${GUST_COMPOSE_CASSANDRA_STORAGE_PORT:=17000}"
: "${GUST_COMPOSE_PROVISIONER_METRICS_PORT:=19464}"
: "${GUST_COMPOSE_AGENT_METRICS_PORT:=19465}"
: "${GUST_COMPOSE_HOST_ID:=compose0}"
# The stack's dockerd runs the compose services, and the agent creates action containers on it.
: "${GUST_COMPOSE_DOCKER_SOCKET:=$GUST_STATE_DIR/docker/docker.sock}"
# Host directory of the action containers' runtime sockets: the agent and the controller mount it
# at the same path, since dockerd (on the host) bind-mounts it into the action containers.
: "${GUST_COMPOSE_RUNTIME_DIR:=$GUST_STATE_DIR/compose/runtimes}"
export GUST_COMPOSE_PROJECT GUST_COMPOSE_PORT GUST_COMPOSE_TEMPORAL_PORT GUST_COMPOSE_TEMPORAL_UI_PORT \
  GUST_COMPOSE_CASSANDRA_PORT GUST_COMPOSE_CASSANDRA_STORAGE_PORT GUST_COMPOSE_PROVISIONER_METRICS_PORT \
  GUST_COMPOSE_AGENT_METRICS_PORT GUST_COMPOSE_HOST_ID GUST_COMPOSE_DOCKER_SOCKET GUST_COMPOSE_RUNTIME_DIR
export DOCKER_HOST="unix://$GUST_COMPOSE_DOCKER_SOCKET"

# Images (docker-compose.yml names the same): not under gust/, which the dev Kubernetes node
# imports at every start (scripts/stack/kubernetes.sh).
export GUST_COMPOSE_CASSANDRA_IMAGE="gust-compose/cassandra:$CASSANDRA_VERSION"
export GUST_COMPOSE_TEMPORAL_IMAGE="gust-compose/temporal:${TEMPORAL_CLI_VERSION#v}"
# The UI server the CLI links (docs/reference/temporal.md §1.1), as a service of its own.
TEMPORAL_UI_VERSION=v2.42.1
export GUST_COMPOSE_TEMPORAL_UI_IMAGE="gust-compose/temporal-ui:${TEMPORAL_UI_VERSION#v}"
GUST_COMPOSE_GUST_IMAGE="gust-compose/gust:$(node -p "require('$REPO_DIR/package.json').version")"
export GUST_COMPOSE_GUST_IMAGE
COMPOSE_CACHE="$GUST_CACHE_DIR/compose"

# Debian's docker-compose (1.29.x, the Python one), installed with apt-get when missing.
compose_install() {
  command -v docker-compose >/dev/null || apt_install docker-compose
  command -v docker >/dev/null || apt_install docker.io
}

# compose <args>: docker-compose on this repository's docker-compose.yml, as the compose project.
compose() {
  docker-compose --project-name "$GUST_COMPOSE_PROJECT" --file "$REPO_DIR/docker-compose.yml" \
    --project-directory "$REPO_DIR" "$@"
}

# The master key sealing the API keys actions get (GUST_KEY_ENCRYPTION_KEY; production requires
# one): the environment's, else one made once for this machine's compose stack and kept beside its
# runtime directory, so that keys issued earlier stay readable across `up`/`down`.
compose_key() {
  local file="$GUST_STATE_DIR/compose/key-encryption-key"
  if [ -z "${GUST_KEY_ENCRYPTION_KEY:-}" ]; then
    if [ ! -s "$file" ]; then
      mkdir -p "$(dirname "$file")"
      (umask 077 && node -e 'console.log(require("node:crypto").randomBytes(32).toString("hex"))' >"$file")
    fi
    GUST_KEY_ENCRYPTION_KEY="$(cat "$file")"
  fi
  export GUST_KEY_ENCRYPTION_KEY
}

# Action containers the stack's agent made (labels of common/names.ts), stem cells included.
compose_action_containers() {
  docker ps -aq --filter "label=io.gust.managed=true" --filter "label=io.gust.host=$GUST_COMPOSE_HOST_ID"
}

# They belong to the pools of the stack's Temporal; an agent leaves them running when it stops (as
# in production, where it comes back), so taking the stack down removes them.
compose_remove_action_containers() {
  local ids
  ids="$(compose_action_containers)"
  [ -n "$ids" ] || return 0
  log "removing $(wc -w <<<"$ids") action container(s) of host $GUST_COMPOSE_HOST_ID"
  # shellcheck disable=SC2086 # one id per word
  docker rm -f -v $ids >/dev/null
}
