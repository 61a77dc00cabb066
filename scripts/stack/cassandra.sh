# shellcheck shell=bash
# Cassandra service of the dev stack: one node on 127.0.0.1:9042, run from Maven Central jars
# (no tarball, no image). Sourced by stack.sh; follows docs/reference/cassandra.md.

CASSANDRA_VERSION=5.0.9 # keep in sync with scripts/stack/cassandra/pom.xml
CASSANDRA_CONF="$STACK_DIR/cassandra"
CASSANDRA_LIB="$GUST_CACHE_DIR/cassandra/lib"
CASSANDRA_STATE="$GUST_STATE_DIR/cassandra"
CASSANDRA_PID="$CASSANDRA_STATE/pid"
CASSANDRA_LOG="$CASSANDRA_STATE/cassandra.log"
CASSANDRA_ADDR=127.0.0.1:9042
# Cassandra 5.0 runs on Java 11/17 only; Temurin 25 on these machines cannot start it.
CASSANDRA_JAVA="${GUST_CASSANDRA_JAVA:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}"
CASSANDRA_HEAP="${GUST_CASSANDRA_HEAP:-1G}"
CASSANDRA_TIMEOUT=180

cassandra_install() {
  if [ ! -x "$CASSANDRA_JAVA" ]; then
    if [ -z "${GUST_CASSANDRA_JAVA:-}" ]; then apt_install openjdk-17-jre-headless; fi
    [ -x "$CASSANDRA_JAVA" ] || die "Java 17 not found at $CASSANDRA_JAVA (set GUST_CASSANDRA_JAVA)"
  fi
  if [ -f "$CASSANDRA_LIB/cassandra-all-$CASSANDRA_VERSION.jar" ] && ls "$CASSANDRA_LIB"/jamm-*.jar >/dev/null 2>&1; then
    return 0
  fi
  command -v mvn >/dev/null || apt_install maven
  log "resolving cassandra-all $CASSANDRA_VERSION and its runtime dependencies into $CASSANDRA_LIB"
  rm -rf "$CASSANDRA_LIB.partial"
  # Maven's local repository lives in our cache too, so a cold GUST_CACHE_DIR really is cold.
  JAVA_HOME="$(dirname "$(dirname "$CASSANDRA_JAVA")")" mvn -B -q -ntp -Dstyle.color=never \
    -f "$CASSANDRA_CONF/pom.xml" \
    -Dmaven.repo.local="$GUST_CACHE_DIR/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$CASSANDRA_LIB.partial" ||
    die "mvn could not resolve org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION (is Maven Central reachable?)"
  # Move into place only when complete, so an interrupted download is never taken as done.
  rm -rf "$CASSANDRA_LIB" && mv "$CASSANDRA_LIB.partial" "$CASSANDRA_LIB"
  log "$(find "$CASSANDRA_LIB" -name '*.jar' | wc -l) jars, $(du -sh "$CASSANDRA_LIB" | cut -f1)"
}

# TCP first (cheap), then a real query; without cassandra-driver (before npm ci) TCP must do.
cassandra_healthy() {
  tcp_open 127.0.0.1 9042 || return 1
  local rc=0
  timeout 20 node "$CASSANDRA_CONF/cql-ready.js" >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]
}

cassandra_launch() {
  mkdir -p "$CASSANDRA_STATE/data" "$CASSANDRA_STATE/logs" "$CASSANDRA_STATE/tmp"
  log "starting cassandra $CASSANDRA_VERSION on $CASSANDRA_ADDR (heap $CASSANDRA_HEAP, log $CASSANDRA_LOG)"
  # The data directory is kept across restarts (same cluster name and tokens), so the schema
  # that Gust's store creates survives a stop/start. Remove $CASSANDRA_STATE to start clean.
  start_detached "$CASSANDRA_PID" "$CASSANDRA_LOG" env \
    CASSANDRA_JAVA="$CASSANDRA_JAVA" CASSANDRA_LIB="$CASSANDRA_LIB" CASSANDRA_CONF="$CASSANDRA_CONF" \
    CASSANDRA_DATA="$CASSANDRA_STATE" CASSANDRA_TMP="$CASSANDRA_STATE/tmp" CASSANDRA_HEAP="$CASSANDRA_HEAP" \
    CASSANDRA_NATIVE_TRANSPORT_PORT=9042 CASSANDRA_STORAGE_PORT=7000 CASSANDRA_UNSAFE_SYSTEM=true \
    bash "$CASSANDRA_CONF/run.sh"
}

cassandra_start() {
  cassandra_install
  service_start cassandra "$CASSANDRA_PID" "$CASSANDRA_LOG" "$CASSANDRA_TIMEOUT" cassandra_healthy cassandra_launch
}

cassandra_stop() {
  # Cassandra flushes on SIGTERM; give it time before SIGKILL.
  stop_pid cassandra "$(read_pid "$CASSANDRA_PID")" 60
  rm -f "$CASSANDRA_PID"
}

cassandra_status() { service_status cassandra "$CASSANDRA_PID" "$CASSANDRA_ADDR (CQL)" cassandra_healthy; }
