#!/usr/bin/env bash
# The dev stack Gust's tests run against: dockerd, a Temporal dev server and one Cassandra node,
# all on 127.0.0.1, state under $GUST_STATE_DIR, downloads under $GUST_CACHE_DIR. Started only when
# named (not part of `all`): `mesos`, the simulated Mesos master for GUST_BACKEND=mesos, and
# `kubernetes`, a single-node control plane for GUST_BACKEND=kubernetes, and `knative`, that
# control plane with the Knative Service CRD (Knative Serving itself is simulated by the tests).
#   stack.sh {start|stop|status|install} [docker|temporal|cassandra|mesos|kubernetes|knative|all]
set -euo pipefail

# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/stack/docker.sh
source "$STACK_DIR/docker.sh"
# shellcheck source=scripts/stack/temporal.sh
source "$STACK_DIR/temporal.sh"
# shellcheck source=scripts/stack/cassandra.sh
source "$STACK_DIR/cassandra.sh"
# shellcheck source=scripts/stack/mesos.sh
source "$STACK_DIR/mesos.sh"
# shellcheck source=scripts/stack/kubernetes.sh
source "$STACK_DIR/kubernetes.sh"
# shellcheck source=scripts/stack/knative.sh
source "$STACK_DIR/knative.sh"

usage() {
  echo "usage: stack.sh {start|stop|status|install} [docker|temporal|cassandra|mesos|kubernetes|knative|all]" >&2
  exit 2
}

action="${1:-}"
target="${2:-all}"
case "$target" in
  all) services=(docker temporal cassandra) ;;
  docker | temporal | cassandra | mesos | kubernetes | knative) services=("$target") ;;
  *) usage ;;
esac

case "$action" in
  start)
    for s in "${services[@]}"; do step "start $s" "${s}_start" || die "$s did not start (see above)"; done
    ;;
  install)
    for s in "${services[@]}"; do
      case "$s" in
        temporal) step "install temporal" temporal_binary >/dev/null ;;
        knative) step "install knative" kubernetes_install ;;
        *) step "install $s" "${s}_install" ;;
      esac
    done
    ;;
  stop)
    # Reverse order: nothing depends on docker, but Gust's containers are removed last.
    for ((i = ${#services[@]} - 1; i >= 0; i--)); do step "stop ${services[i]}" "${services[i]}_stop"; done
    ;;
  status)
    rc=0
    for s in "${services[@]}"; do "${s}_status" || rc=3; done
    exit "$rc"
    ;;
  *) usage ;;
esac
