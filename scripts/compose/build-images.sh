#!/usr/bin/env bash
# Builds the compose stack's four images in the stack's dockerd with `docker import` of root
# filesystems assembled from this machine's own files and what the package registries gave the
# dev stack (no image registry is reachable here):
#   gust-compose/cassandra:<v>  Cassandra from the Maven Central jars scripts/stack/cassandra.sh
#                               fetches, on a Java 17 runtime cut from Debian's OpenJDK by jlink
#   gust-compose/temporal:<v>   the Temporal CLI scripts/stack/temporal.sh builds with Go
#                               (`temporal server start-dev --headless`: frontend, history,
#                               matching and worker in one process, SQLite persistence)
#   gust-compose/temporal-ui:<v> Temporal's UI server, built here with Go from the module proxy
#                               (the version the CLI links), with scripts/compose/temporal-ui.yaml
#   gust-compose/gust:<v>       this machine's node, the compiled dist/ and the production
#                               node_modules; controller, provisioner or agent by command
# Each image carries the hash of what it was built from (label io.gust.content-hash) and is rebuilt
# only when that changes; the Java runtime and the production node_modules are cached under
# $GUST_CACHE_DIR/compose, the UI server in $GUST_CACHE_DIR/bin. Needs dist/ compiled first
# (`npx tsc -p .`).
#   build-images.sh [all|cassandra|temporal|temporal_ui|gust]
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=scripts/compose/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/stack/rootfs.sh
source "$STACK_DIR/rootfs.sh"
cd "$REPO_DIR"

HASH_LABEL=io.gust.content-hash
JAVA_HOME_17="$(dirname "$(dirname "$CASSANDRA_JAVA")")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

hash_of() { sha256sum | cut -c1-16; }

# up_to_date <image> <hash>: the image exists and was built from the same content.
up_to_date() {
  [ "$(docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true)" = "$2" ]
}

# import <image> <hash> <rootfs> <docker import --change ...>...
import() {
  local image="$1" hash="$2" rootfs="$3" change previous
  shift 3
  local changes=(--change "LABEL $HASH_LABEL=$hash" --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" --change "ENV HOME=/tmp")
  for change in "$@"; do changes+=(--change "$change"); done
  previous="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  tar -C "$rootfs" -c . | docker import "${changes[@]}" - "$image" >/dev/null
  log "built $image ($hash, $(du -sh "$rootfs" | cut -f1))"
  # The image it replaces is left without a name: remove it unless a container still uses it.
  if [ -n "$previous" ]; then docker rmi "$previous" >/dev/null 2>&1 || true; fi
}

# A Java 17 runtime with the modules Cassandra uses (about 80 MB instead of the JDK's 260 MB).
java_runtime() {
  local version dir
  version="$("$JAVA_HOME_17/bin/java" -version 2>&1 | head -n1 | tr -dc '0-9._')"
  dir="$COMPOSE_CACHE/java-$version"
  if [ ! -x "$dir/bin/java" ]; then
    [ -x "$JAVA_HOME_17/bin/jlink" ] || apt_install openjdk-17-jdk-headless
    rm -rf "$dir.partial"
    mkdir -p "$COMPOSE_CACHE"
    "$JAVA_HOME_17/bin/jlink" --output "$dir.partial" --strip-debug --no-header-files --no-man-pages \
      --add-modules java.se,jdk.unsupported,jdk.management,jdk.management.agent,jdk.attach,jdk.crypto.ec,jdk.naming.dns,jdk.zipfs >&2
    mv "$dir.partial" "$dir"
  fi
  echo "$dir"
}

build_cassandra() {
  local image="$GUST_COMPOSE_CASSANDRA_IMAGE" java hash rootfs elves
  cassandra_install
  java="$(java_runtime)"
  hash="$( (echo "$java"; ls -l "$CASSANDRA_LIB"; cat "$CASSANDRA_CONF"/{cassandra.yaml,jvm17.args,logback.xml} \
    "$CASSANDRA_CONF/run.sh" "$0" scripts/stack/rootfs.sh) | hash_of)"
  if up_to_date "$image" "$hash"; then
    log "$image is up to date ($hash)"
    return
  fi
  rootfs="$WORK/cassandra"
  rootfs_base "$rootfs"
  mkdir -p "$rootfs/opt/cassandra/conf" "$rootfs/var/lib/cassandra"
  cp -a "$java" "$rootfs/opt/java"
  mapfile -t elves < <(find "$rootfs/opt/java" -type f \( -name "*.so" -o -path "*/bin/*" \))
  rootfs_add_libs "$rootfs" "${elves[@]}"
  cp -a "$CASSANDRA_LIB" "$rootfs/opt/cassandra/lib"
  cp "$CASSANDRA_CONF"/{jvm17.args,logback.xml} "$rootfs/opt/cassandra/conf/"
  # Its own cluster name: a node of another cluster (the dev stack's) is never taken for a peer.
  sed "s/^cluster_name: .*/cluster_name: 'Gust Compose'/" "$CASSANDRA_CONF/cassandra.yaml" >"$rootfs/opt/cassandra/conf/cassandra.yaml"
  # bash runs the launcher and the health check (a TCP connect; CQL is the last thing to open).
  rootfs_add_bin "$rootfs" "$(command -v bash)" bash
  install -m 0755 "$CASSANDRA_CONF/run.sh" "$rootfs/usr/local/bin/cassandra-run"
  # Ports and heap come from the service's environment (docker-compose.yml).
  import "$image" "$hash" "$rootfs" 'ENV CASSANDRA_JAVA=/opt/java/bin/java' 'ENV CASSANDRA_LIB=/opt/cassandra/lib' \
    'ENV CASSANDRA_CONF=/opt/cassandra/conf' 'ENV CASSANDRA_DATA=/var/lib/cassandra' \
    'CMD ["/usr/local/bin/bash", "/usr/local/bin/cassandra-run"]'
}

build_temporal() {
  local image="$GUST_COMPOSE_TEMPORAL_IMAGE" bin hash rootfs entrypoint
  bin="$(temporal_binary)"
  # The entrypoint carries the dev stack's flags (search attributes, dynamic config); compose adds
  # the address, ports and database file.
  entrypoint="$(node -e 'console.log(JSON.stringify(["/usr/local/bin/temporal", "server", "start-dev", ...process.argv.slice(1)]))' -- "${TEMPORAL_DEV_FLAGS[@]}")"
  hash="$( (sha256sum "$bin"; echo "$entrypoint"; cat "$0" scripts/stack/rootfs.sh) | hash_of)"
  if up_to_date "$image" "$hash"; then
    log "$image is up to date ($hash)"
    return
  fi
  rootfs="$WORK/temporal"
  rootfs_base "$rootfs"
  mkdir -p "$rootfs/var/lib/temporal"
  rootfs_add_bin "$rootfs" "$bin" temporal
  import "$image" "$hash" "$rootfs" "ENTRYPOINT $entrypoint"
}

# The UI server (github.com/temporalio/ui-server, a Go module; its web assets are embedded) at
# TEMPORAL_UI_VERSION (lib.sh). Built once, like the CLI: one build at a time, module and build
# caches removed afterwards.
temporal_ui_binary() {
  local bin="$GUST_CACHE_DIR/bin/temporal-ui-server-$TEMPORAL_UI_VERSION" go
  mkdir -p "$GUST_CACHE_DIR/bin"
  (
    flock 9
    [ -x "$bin" ] && exit 0
    go=$(command -v go || echo /usr/local/go/bin/go)
    [ -x "$go" ] || die "Go (>= 1.24) is needed to build the Temporal UI server"
    log "building the Temporal UI server $TEMPORAL_UI_VERSION with $("$go" version | cut -d' ' -f3)"
    GOBIN="$COMPOSE_CACHE/go/bin" GOMODCACHE="$COMPOSE_CACHE/go/mod" GOCACHE="$COMPOSE_CACHE/go/build" \
      GOFLAGS=-modcacherw CGO_ENABLED=0 \
      "$go" install "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_VERSION" >&2 ||
      die "go install github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_VERSION failed (is the Go module proxy reachable?)"
    mv "$COMPOSE_CACHE/go/bin/server" "$bin"
    rm -rf "$COMPOSE_CACHE/go"
  ) 9>"$GUST_CACHE_DIR/bin/.temporal-ui.lock"
  echo "$bin"
}

build_temporal_ui() {
  local image="$GUST_COMPOSE_TEMPORAL_UI_IMAGE" bin hash rootfs
  bin="$(temporal_ui_binary)"
  hash="$( (sha256sum "$bin"; cat scripts/compose/temporal-ui.yaml "$0" scripts/stack/rootfs.sh) | hash_of)"
  if up_to_date "$image" "$hash"; then
    log "$image is up to date ($hash)"
    return
  fi
  rootfs="$WORK/temporal-ui"
  rootfs_base "$rootfs"
  rootfs_add_bin "$rootfs" "$bin" temporal-ui-server
  rootfs_add_bin "$rootfs" "$(command -v bash)" bash # for the health check (a TCP connect)
  install -D -m 0644 scripts/compose/temporal-ui.yaml "$rootfs/etc/temporal-ui/config/compose.yaml"
  import "$image" "$hash" "$rootfs" \
    'ENTRYPOINT ["/usr/local/bin/temporal-ui-server", "--root", "/etc/temporal-ui", "--env", "compose", "start"]'
}

# The production dependencies of package-lock.json, pruned from a copy of node_modules (no
# download, no native rebuild), without the Temporal core bridges of other platforms.
production_node_modules() {
  local key dir
  key="$( (node --version; cat package-lock.json) | hash_of)"
  dir="$COMPOSE_CACHE/node_modules-$key"
  if [ ! -d "$dir/node_modules" ]; then
    [ -d node_modules ] || die "node_modules is missing: run npm ci first"
    rm -rf "$COMPOSE_CACHE"/node_modules-* # an older lock file's
    mkdir -p "$dir.partial"
    cp -a node_modules package.json package-lock.json "$dir.partial/"
    (cd "$dir.partial" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >&2)
    find "$dir.partial/node_modules/@temporalio/core-bridge/releases" -mindepth 1 -maxdepth 1 \
      -not -name "$(uname -m)-unknown-linux-gnu" -exec rm -rf {} +
    mv "$dir.partial" "$dir"
  fi
  echo "$dir/node_modules"
}

GUST_DIST=(api activities backends common runtimes store workers workflows)

build_gust() {
  local image="$GUST_COMPOSE_GUST_IMAGE" modules hash rootfs node_bin
  [ -f dist/workers/controller.js ] || die "dist/ is not compiled: run npx tsc -p . first"
  modules="$(production_node_modules)"
  node_bin="$(readlink -f "${GUST_NODE_BINARY:-$(command -v node)}")"
  hash="$( (echo "$modules"; sha256sum "$node_bin"; cat package.json "$0" scripts/stack/rootfs.sh
    find "${GUST_DIST[@]/#/dist/}" -type f | sort | xargs cat) | hash_of)"
  if up_to_date "$image" "$hash"; then
    log "$image is up to date ($hash)"
    return
  fi
  rootfs="$WORK/gust"
  GUST_NODE_BINARY="$node_bin" bash scripts/stack/node-rootfs.sh "$rootfs"
  mkdir -p "$rootfs/app/dist" "$rootfs/var/lib/gust"
  for dir in "${GUST_DIST[@]}"; do cp -a "dist/$dir" "$rootfs/app/dist/"; done
  cp package.json "$rootfs/app/"
  cp -a "$modules" "$rootfs/app/node_modules"
  # Native addons (Temporal's core bridge, better-sqlite3) need libraries node itself does not.
  local addons
  mapfile -t addons < <(find "$rootfs/app/node_modules" -name '*.node' -type f)
  rootfs_add_libs "$rootfs" "${addons[@]}"
  import "$image" "$hash" "$rootfs" 'WORKDIR /app' 'ENTRYPOINT ["/usr/local/bin/node"]' \
    'CMD ["dist/workers/controller.js"]'
}

# Each image in a process of its own, so that `set -e` holds inside it (step's `||` would lift it).
case "${1:-all}" in
  cassandra | temporal | temporal_ui | gust) "build_$1" ;;
  all)
    compose_install
    docker info >/dev/null 2>&1 || die "no dockerd answers at $DOCKER_HOST: npm run stack -- start docker"
    step "image $GUST_COMPOSE_CASSANDRA_IMAGE" bash "$0" cassandra
    step "image $GUST_COMPOSE_TEMPORAL_IMAGE" bash "$0" temporal
    step "image $GUST_COMPOSE_TEMPORAL_UI_IMAGE" bash "$0" temporal_ui
    step "image $GUST_COMPOSE_GUST_IMAGE" bash "$0" gust
    ;;
  *) die "usage: build-images.sh [all|cassandra|temporal|temporal_ui|gust]" ;;
esac
