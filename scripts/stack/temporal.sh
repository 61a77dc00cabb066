# shellcheck shell=bash
# Temporal service of the dev stack: `temporal server start-dev` on 127.0.0.1:7233 (UI 8233),
# SQLite-backed under $GUST_STATE_DIR/temporal. Sourced by stack.sh and start.sh.

# v1.5.1 is the newest CLI that `go install` can build: v1.6+ has a replace directive, and
# @latest resolves to one of those (see docs/reference/temporal.md §1.1).
TEMPORAL_CLI_VERSION=v1.5.1
TEMPORAL_STATE="$GUST_STATE_DIR/temporal"
TEMPORAL_PID="$TEMPORAL_STATE/pid"
TEMPORAL_LOG="$TEMPORAL_STATE/temporal.log"
TEMPORAL_ADDR=127.0.0.1:7233
TEMPORAL_TIMEOUT=60
# Flags of every `temporal server start-dev` the scripts run (this stack's, and the compose stack's
# image: scripts/compose/build-images.sh). Search attributes must match common/search-attributes.ts.
# The dynamic config values are the ones the SDK's own dev-server launcher passes, plus
# update-with-start (ExecuteMultiOperation).
TEMPORAL_DEV_FLAGS=(
  --dynamic-config-value frontend.enableServerVersionCheck=false
  --dynamic-config-value frontend.enableExecuteMultiOperation=true
  --dynamic-config-value frontend.enableUpdateWorkflowExecution=true
  --dynamic-config-value frontend.enableUpdateWorkflowExecutionAsyncAccepted=true
  --search-attribute GustNamespace=Keyword
  --search-attribute GustAction=Keyword
  --search-attribute GustKind=Keyword
  --search-attribute GustHost=Keyword
)

# Prints the path of a temporal CLI: $GUST_TEMPORAL_CLI, the cache, PATH, else builds it with Go.
temporal_binary() {
  if [ -n "${GUST_TEMPORAL_CLI:-}" ]; then
    [ -x "$GUST_TEMPORAL_CLI" ] || die "GUST_TEMPORAL_CLI=$GUST_TEMPORAL_CLI is not an executable"
    echo "$GUST_TEMPORAL_CLI"
  elif [ -x "$GUST_CACHE_DIR/bin/temporal" ]; then
    echo "$GUST_CACHE_DIR/bin/temporal"
  elif command -v temporal >/dev/null; then
    command -v temporal
  else
    temporal_install >&2 && echo "$GUST_CACHE_DIR/bin/temporal"
  fi
}

# One build at a time: concurrent callers (two terminals, parallel test runs) wait for it.
temporal_install() {
  mkdir -p "$GUST_CACHE_DIR/bin"
  (
    flock 9
    [ -x "$GUST_CACHE_DIR/bin/temporal" ] || temporal_build
  ) 9>"$GUST_CACHE_DIR/bin/.temporal.lock"
}

temporal_build() {
  local go
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || die "the Temporal CLI is missing and Go (>= 1.25) is not installed to build it: install Go, or set GUST_TEMPORAL_CLI to a temporal binary"
  log "building the Temporal CLI $TEMPORAL_CLI_VERSION with $("$go" version | cut -d' ' -f3) into $GUST_CACHE_DIR/bin (compiles the server and UI: minutes on a cold cache)"
  mkdir -p "$GUST_CACHE_DIR/bin"
  # Module and build caches under GUST_CACHE_DIR too; -modcacherw so the cache can be deleted.
  GOBIN="$GUST_CACHE_DIR/bin" GOMODCACHE="$GUST_CACHE_DIR/go/mod" GOCACHE="$GUST_CACHE_DIR/go/build" \
    GOFLAGS=-modcacherw CGO_ENABLED=0 \
    "$go" install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" ||
    die "go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION failed (is the Go module proxy reachable?)"
  # The module and build caches (~2 GB) are only useful for rebuilding the same binary.
  rm -rf "$GUST_CACHE_DIR/go"
}

# Never builds: a status check must not start a compile.
temporal_healthy() {
  local bin=${GUST_TEMPORAL_CLI:-$GUST_CACHE_DIR/bin/temporal}
  [ -x "$bin" ] || bin=$(command -v temporal) || return 1
  timeout 5 "$bin" operator cluster health --address "$TEMPORAL_ADDR" >/dev/null 2>&1
}

temporal_launch() {
  local bin
  bin=$(temporal_binary) || return 1
  mkdir -p "$TEMPORAL_STATE"
  log "starting $bin server start-dev on $TEMPORAL_ADDR, UI http://127.0.0.1:8233 (log $TEMPORAL_LOG)"
  start_detached "$TEMPORAL_PID" "$TEMPORAL_LOG" \
    "$bin" server start-dev --ip 127.0.0.1 --port 7233 --ui-port 8233 \
    --db-filename "$TEMPORAL_STATE/temporal.db" "${TEMPORAL_DEV_FLAGS[@]}"
}

temporal_start() {
  temporal_binary >/dev/null || return 1
  service_start temporal "$TEMPORAL_PID" "$TEMPORAL_LOG" "$TEMPORAL_TIMEOUT" temporal_healthy temporal_launch
}

temporal_stop() {
  stop_pid temporal "$(read_pid "$TEMPORAL_PID")" 20
  rm -f "$TEMPORAL_PID"
}

temporal_status() { service_status temporal "$TEMPORAL_PID" "$TEMPORAL_ADDR (UI http://127.0.0.1:8233)" temporal_healthy; }
