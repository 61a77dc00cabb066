#!/usr/bin/env bash
# `npm test`: brings up the dev stack, builds the runtime image, lints, runs every jest project.
# Dependencies come from `npm ci` beforehand (README: `npm ci && npm test`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/stack/lib.sh
source scripts/stack/lib.sh

GUST_STEP_TIMINGS="$(mktemp)"
export GUST_STEP_TIMINGS
jest_results="$(mktemp -d)"
trap 'rm -rf "$GUST_STEP_TIMINGS" "$jest_results"' EXIT
total=$(now_ms)

# Every jest run writes its results for the closing line (scripts/test-totals.js).
jest_runs=()
# Jest writes its results once the last test is done, then exits when nothing holds its event loop:
# one still running a minute later holds a leaked handle, and fails the run instead of holding CI.
jest_run() {
  local results="$jest_results/${#jest_runs[@]}.json" pid waited=0
  jest_runs+=("$results")
  node node_modules/jest/bin/jest.js "$@" --json --outputFile="$results" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -s "$results" ]; then
      waited=$((waited + 1))
      if [ "$waited" -gt 60 ]; then
        echo "jest did not exit a minute after its last test: a test leaves a handle open" \
          "(jest --detectOpenHandles on the files of this run shows which); stopping it" >&2
        kill "$pid" 2>/dev/null || true
        wait "$pid" || true
        touch "$results.hung"
        return 1
      fi
    fi
    sleep 1
  done
  wait "$pid"
}

summary() {
  echo
  echo "---- npm test: step timings ----"
  cat "$GUST_STEP_TIMINGS"
  echo "total $(elapsed_since "$total")"
  if [ "${#jest_runs[@]}" -gt 0 ]; then
    # The last line: what ran, in the plain form CI logs are read for. .ci/run repeats it at its end.
    node scripts/test-totals.js "${jest_runs[@]}" | tee -a "${GUST_TEST_TOTALS_FILE:-/dev/null}"
  fi
}

if ! step "dev stack (docker, temporal, cassandra)" bash scripts/stack/stack.sh start all; then
  summary
  die "the dev stack did not come up; see the messages above"
fi
build_runtime_image || {
  summary
  die "building the runtime image failed"
}
# After the image: starting Kubernetes imports Gust's images into the node's containerd. The first
# start on a machine builds the control plane from the Go module proxy (~10 min on 2 cores).
if ! step "kubernetes (etcd, apiserver, scheduler, kubelet) and the Knative Service CRD" bash scripts/stack/stack.sh start knative; then
  summary
  die "the Kubernetes control plane did not come up; see the messages above"
fi

# Schedules of test runs cut short on this machine (killed, or a hook that threw) fire every second
# or two for good and slow the dev server's scheduler for every later test (test/temporal-leftovers.ts).
step "stale test schedules and workflows" node scripts/run-ts.js test/sweep-stale-test-runs.ts || true

# Request lines (info) would drown the test output; warnings and errors still show.
export GUST_LOG_LEVEL="${GUST_LOG_LEVEL:-warn}"

# Lint and jest both run even when one fails, so a CI log shows every problem at once.
lint=0 tests=0
step "lint (tsc, eslint, prettier)" npm run --silent lint || lint=$?
# Every run must exit by itself (no --forceExit): jest_run fails one that holds a leaked handle.
step "jest (unit, integration, e2e)" jest_run --selectProjects unit integration || tests=$?
# Fault tests (test/faults/), in band: each freezes, kills or restarts a part of the stack
# (Temporal, Cassandra, dockerd, a controller, a container, the kube-apiserver) under a running Gust.
step "jest faults" jest_run --selectProjects faults --runInBand || tests=$?
# The REST API fuzzed from its OpenAPI description (schemathesis): a CI-sized run of at least
# 1000 requests; `npm run test:fuzz` is the full one (10000 requests, about 20 minutes here).
step "API fuzz (schemathesis)" bash scripts/fuzz-api.sh 1000 5 || tests=$?
# The end-to-end suite again with the mesos backend (a simulated master of its own, tasks on dockerd).
GUST_E2E_BACKEND=mesos step "jest e2e, mesos backend" jest_run test/e2e --selectProjects integration || tests=$?
# And with the kubernetes backend: action pods through the real apiserver, scheduler and kubelet.
GUST_E2E_BACKEND=kubernetes step "jest e2e, kubernetes backend" jest_run test/e2e --selectProjects integration || tests=$?
# And with the knative backend: one Knative Service per action on that Kubernetes, Knative Serving
# SIMULATED (test/knative/serving-simulator.ts); about two minutes on 2 cores.
GUST_E2E_BACKEND=knative step "jest e2e, knative backend" jest_run test/e2e --selectProjects integration || tests=$?
# The production-shaped compose stack (docker-compose.yml, images built locally): up with Debian's
# docker-compose, an action invoked through the openwhisk client, down, nothing left (README
# "Compose stack"; 1.5 minutes with warm caches, 6 cold).
step "compose stack check" bash scripts/compose-check.sh || tests=$?
summary
[ "$lint" -eq 0 ] || die "lint failed"
[ "$tests" -eq 0 ] || die "tests failed"
