#!/usr/bin/env bash
# `npm run bench [-- --quick] [-- --sqlite]`: brings up what the benchmarks need (dockerd, Temporal
# dev server, Cassandra: scripts/stack/stack.sh start all, idempotent; the action image; tsc), then
# runs bench/suite.ts, which composes Gust (the controller in its process, the provisioner and agent in a
# child) and writes bench/results/<timestamp>.{json,md},
# SVG charts and the latest.* copies.
#   BENCH_CPU_PROF=1   also writes a V8 CPU profile of the Gust process to bench/results/profiles/
#   BENCH_DEADLINE_MS=N  ends the run (cleanup, then the report of what was measured) after N ms
#   BENCH_SEMI_SPACE_MB=N  the Gust process's --max-semi-space-size (default 32; 0: Node's default)
#   BENCH_COLD_SAMPLES=stem,new,floor  the cold phase's sample counts (e.g. 30,0,30 with --only=cold)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
total=$(date +%s%3N)
say() { printf '[bench.sh +%ss] %s\n' "$(awk -v d="$(($(date +%s%3N) - total))" 'BEGIN { printf "%.1f", d / 1000 }')" "$*"; }

say "stack: dockerd, Temporal, Cassandra"
bash scripts/stack/stack.sh start all
say "action image"
bash runtimes/build-images.sh
# After the image (imports it into the node's containerd): the knative phase's Kubernetes and the
# Knative Service CRD. Without them that phase fails and says so; the others still run.
say "kubernetes and the Knative Service CRD"
bash scripts/stack/stack.sh start knative || say "kubernetes did not start: the knative phase will fail"
say "compile TypeScript to dist/"
# Other parts of the tree may be mid-edit: errors outside bench/ do not stop the benchmark (tsc
# still emits), errors in bench/ do.
if ! out=$(npx tsc -p . 2>&1); then
  if grep -q '^bench/' <<<"$out"; then
    printf '%s\n' "$out" >&2
    exit 1
  fi
  say "tsc reported errors outside bench/ (ignored here):"
  grep -E '^[a-z].*error TS' <<<"$out" | head -5 >&2 || true
fi
[ -f dist/bench/suite.js ] || { echo "dist/bench/suite.js is missing" >&2; exit 1; }

# A larger young generation: fewer scavenges per request (measured in the sustained phase's GC
# counts); BENCH_SEMI_SPACE_MB=0 runs with Node's default.
node_args=()
if [ "${BENCH_SEMI_SPACE_MB:-32}" != 0 ]; then
  node_args+=("--max-semi-space-size=${BENCH_SEMI_SPACE_MB:-32}")
fi
if [ "${BENCH_CPU_PROF:-}" = 1 ]; then
  mkdir -p bench/results/profiles
  node_args+=(--cpu-prof --cpu-prof-dir bench/results/profiles)
fi
say "running bench/suite.ts $*"
node "${node_args[@]}" dist/bench/suite.js "$@"
say "done"
