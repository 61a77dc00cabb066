#!/usr/bin/env bash
# Runs one Cassandra node on 127.0.0.1 in the foreground (exec java): the one launch recipe of the
# dev stack (scripts/stack/cassandra.sh) and of the compose stack's image
# (scripts/compose/build-images.sh), after docs/reference/cassandra.md §3. Environment:
#   CASSANDRA_JAVA   a Java 17 `java`             CASSANDRA_LIB   the jars (cassandra-all, jamm, ...)
#   CASSANDRA_CONF   cassandra.yaml, jvm17.args, logback.xml
#   CASSANDRA_DATA   data/ (kept across restarts: same cluster name and tokens) and logs/ below it
#   CASSANDRA_TMP    java.io.tmpdir (/tmp)         CASSANDRA_HEAP  -Xms/-Xmx (1G)
#   CASSANDRA_NATIVE_TRANSPORT_PORT (9042), CASSANDRA_STORAGE_PORT (7000): override the yaml's
#   CASSANDRA_UNSAFE_SYSTEM (false): true skips the blocking flush of system tables after every
#     local write and DDL (a throwaway node's speed-up; the data is still in the commit log)
# Only bash builtins: the image has no coreutils.
set -euo pipefail
: "${CASSANDRA_JAVA:?}" "${CASSANDRA_LIB:?}" "${CASSANDRA_CONF:?}" "${CASSANDRA_DATA:?}"
jamm=("$CASSANDRA_LIB"/jamm-*.jar)
exec "$CASSANDRA_JAVA" @"$CASSANDRA_CONF/jvm17.args" \
  -Xms"${CASSANDRA_HEAP:-1G}" -Xmx"${CASSANDRA_HEAP:-1G}" \
  -javaagent:"${jamm[0]}" \
  -Dcassandra-foreground=yes \
  -Dcassandra.config="file://$CASSANDRA_CONF/cassandra.yaml" \
  -Dcassandra.native_transport_port="${CASSANDRA_NATIVE_TRANSPORT_PORT:-9042}" \
  -Dcassandra.storage_port="${CASSANDRA_STORAGE_PORT:-7000}" \
  -Dcassandra.storagedir="$CASSANDRA_DATA/data" \
  -Dcassandra.logdir="$CASSANDRA_DATA/logs" \
  -Dlogback.configurationFile="$CASSANDRA_CONF/logback.xml" \
  -Djava.io.tmpdir="${CASSANDRA_TMP:-/tmp}" \
  -Dcassandra.skip_wait_for_gossip_to_settle=0 \
  -Dcassandra.unsafesystem="${CASSANDRA_UNSAFE_SYSTEM:-false}" \
  -cp "$CASSANDRA_LIB/*" \
  org.apache.cassandra.service.CassandraDaemon
