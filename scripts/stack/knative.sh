# shellcheck shell=bash
# Knative service of the dev stack: the Kubernetes control plane (kubernetes.sh) plus the Knative
# Serving `Service` CRD from Gust's own manifest (deploy/knative/serving-crd.yaml), applied with
# server-side apply (idempotent; a changed manifest is re-applied). Knative Serving's controllers
# cannot run here (Envoy networking, registry images): the tests run a SIMULATED Knative Serving
# (test/knative/serving-simulator.ts) against this API. Sourced by stack.sh.

KNATIVE_CRD_MANIFEST="$STACK_DIR/../../deploy/knative/serving-crd.yaml"
KNATIVE_CRD=services.serving.knative.dev

knative_crd_established() {
  kube_api GET "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$KNATIVE_CRD" 2>/dev/null |
    tr -d ' \n' | grep -q '"type":"Established","status":"True"'
}

# Established is not enough: the apiserver builds a CRD's watch cache on the first request after it
# starts, answering 429 "storage is (re)initializing" until the cache is ready. Ready means a list
# of Services is served.
knative_services_served() {
  knative_crd_established &&
    kube_api GET "/apis/serving.knative.dev/v1/namespaces/$KUBE_ACTIONS_NAMESPACE/services?limit=1" >/dev/null 2>&1
}

knative_apply_crd() {
  kube_api PATCH "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$KNATIVE_CRD?fieldManager=gust-stack&force=true" \
    -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$KNATIVE_CRD_MANIFEST" >/dev/null
}

knative_start() {
  kubernetes_start || return 1
  step "Knative Service CRD ($KNATIVE_CRD)" knative_apply_crd || return 1
  local i
  for ((i = 0; i < 60; i++)); do
    knative_services_served && {
      log "knative: the Service API (serving.knative.dev/v1, ksvc) is served"
      return 0
    }
    sleep 0.5
  done
  log "knative: the CRD $KNATIVE_CRD did not become Established and served"
  return 1
}

# The CRD stays (it is cluster configuration, and deleting it would delete every Service).
knative_stop() { :; }

knative_status() {
  if apiserver_healthy && knative_crd_established; then
    log "knative: CRD $KNATIVE_CRD established (Knative Serving itself is simulated in tests)"
  else
    log "knative: CRD $KNATIVE_CRD not installed"
    return 1
  fi
}
