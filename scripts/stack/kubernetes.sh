# shellcheck shell=bash
# Kubernetes service of the dev stack: a real single-node control plane on 127.0.0.1, built from
# the Go module proxy (kubernetes-build.sh) and run under $GUST_STATE_DIR/kubernetes:
#   etcd            127.0.0.1:12379 (peer 12380), no fsync
#   kube-apiserver  https://127.0.0.1:6443, static token auth, AlwaysAllow
#   kube-scheduler  127.0.0.1:10259
#   containerd      a private instance (Debian's) with CRI: its own root, state and socket
#   kubelet         node `gust-node`, 127.0.0.1:10250, host-network pods, loopback-only CNI
# It writes $GUST_STATE_DIR/kubernetes/kubeconfig, creates the `gust-actions` namespace, and
# imports the pause image and Gust's images (gust/*) from the stack's dockerd into containerd
# (pods use imagePullPolicy: Never: no registry is reachable). Needs the docker service.
# Sourced by stack.sh; reference: docs/reference/kubernetes-knative-mesos.md §0b.

# shellcheck source=scripts/stack/kubernetes-build.sh
source "$STACK_DIR/kubernetes-build.sh"

KUBE_STATE="$GUST_STATE_DIR/kubernetes"
KUBE_CONFIG="$KUBE_STATE/kubeconfig"
KUBE_TOKEN_FILE="$KUBE_STATE/token"
KUBE_API=https://127.0.0.1:6443
KUBE_NODE=gust-node
KUBE_ACTIONS_NAMESPACE=gust-actions
KUBE_PAUSE_IMAGE=gust/pause:1
KUBE_CONTAINERD_SOCK="$KUBE_STATE/containerd/containerd.sock"
KUBE_TIMEOUT=90
KUBE_COMPONENTS=(etcd containerd kube-apiserver kube-scheduler kubelet)

kube_pid() { echo "$KUBE_STATE/$1.pid"; }
kube_log() { echo "$KUBE_STATE/$1.log"; }

# kube_api METHOD PATH [curl args...]: the apiserver with the admin token (no kubectl needed).
kube_api() {
  local method="$1" path="$2"
  shift 2
  curl -fsS --max-time 10 -k -H "Authorization: Bearer $(cat "$KUBE_TOKEN_FILE")" -X "$method" "$@" "$KUBE_API$path"
}

kubernetes_install() {
  docker_install
  command -v openssl >/dev/null || apt_install openssl
  command -v containerd >/dev/null && command -v runc >/dev/null || apt_install containerd runc
  [ -x /usr/lib/cni/loopback ] || apt_install containernetworking-plugins
  [ -x /bin/busybox ] || apt_install busybox-static
  kube_build
}

# Keys, token, configuration files: written once, kept across restarts.
kube_write_config() {
  mkdir -p "$KUBE_STATE/pki" "$KUBE_STATE/cni" "$KUBE_STATE/containerd" "$KUBE_STATE/kubelet"
  if [ ! -s "$KUBE_STATE/pki/sa.key" ]; then
    openssl genrsa -out "$KUBE_STATE/pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$KUBE_STATE/pki/sa.key" -pubout -out "$KUBE_STATE/pki/sa.pub" 2>/dev/null
  fi
  if [ ! -s "$KUBE_TOKEN_FILE" ]; then
    (umask 077 && openssl rand -hex 24 >"$KUBE_TOKEN_FILE")
  fi
  # token,user,uid,"group": the admin (Gust's stack and tests) is a cluster admin.
  printf '%s,gust-admin,gust-admin,"system:masters"\n' "$(cat "$KUBE_TOKEN_FILE")" >"$KUBE_STATE/pki/tokens.csv"
  cat >"$KUBE_CONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: gust
    cluster:
      server: $KUBE_API
      insecure-skip-tls-verify: true
users:
  - name: gust-admin
    user:
      token: $(cat "$KUBE_TOKEN_FILE")
contexts:
  - name: gust
    context: { cluster: gust, user: gust-admin }
current-context: gust
EOF
  chmod 600 "$KUBE_CONFIG"
  # The node needs a CRI network to be Ready; host-network pods use none of it.
  cat >"$KUBE_STATE/cni/10-loopback.conflist" <<'EOF'
{ "cniVersion": "1.0.0", "name": "gust-loopback", "plugins": [{ "type": "loopback" }] }
EOF
  cat >"$KUBE_STATE/containerd/config.toml" <<EOF
version = 2
root = "$KUBE_STATE/containerd/root"
state = "$KUBE_STATE/containerd/state"
[grpc]
  address = "$KUBE_CONTAINERD_SOCK"
[ttrpc]
  address = "$KUBE_CONTAINERD_SOCK.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$KUBE_STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/$KUBE_PAUSE_IMAGE"
  # Root may not lower oom_score_adj on these machines; without this every sandbox fails.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$KUBE_STATE/cni"
EOF
  cat >"$KUBE_STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: { enabled: true }
  webhook: { enabled: false }
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: unix://$KUBE_CONTAINERD_SOCK
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
maxPods: 250
serializeImagePulls: false
imageGCHighThresholdPercent: 100
evictionHard: { memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%" }
podPidsLimit: 1024
registerWithTaints: []
EOF
}

etcd_launch() {
  start_detached "$(kube_pid etcd)" "$(kube_log etcd)" "$KUBE_BIN/etcd" \
    --name gust --data-dir "$KUBE_STATE/etcd" \
    --listen-client-urls http://127.0.0.1:12379 --advertise-client-urls http://127.0.0.1:12379 \
    --listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 \
    --initial-cluster gust=http://127.0.0.1:12380 --listen-metrics-urls http://127.0.0.1:12381 \
    --unsafe-no-fsync --quota-backend-bytes 2147483648
}
etcd_healthy() { curl -fsS --max-time 2 http://127.0.0.1:12379/health 2>/dev/null | grep -q '"health":"true"'; }

containerd_launch() {
  start_detached "$(kube_pid containerd)" "$(kube_log containerd)" \
    containerd --config "$KUBE_STATE/containerd/config.toml"
}
kube_ctr() { ctr -a "$KUBE_CONTAINERD_SOCK" -n k8s.io "$@"; }
containerd_healthy() { [ -S "$KUBE_CONTAINERD_SOCK" ] && kube_ctr version >/dev/null 2>&1; }

apiserver_launch() {
  start_detached "$(kube_pid kube-apiserver)" "$(kube_log kube-apiserver)" "$KUBE_BIN/kube-apiserver" \
    --etcd-servers http://127.0.0.1:12379 \
    --bind-address 127.0.0.1 --secure-port 6443 --cert-dir "$KUBE_STATE/pki" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$KUBE_STATE/pki/sa.pub" \
    --service-account-signing-key-file "$KUBE_STATE/pki/sa.key" \
    --token-auth-file "$KUBE_STATE/pki/tokens.csv" \
    --authorization-mode RBAC,Node --anonymous-auth=false \
    --disable-admission-plugins ServiceAccount \
    --endpoint-reconciler-type none \
    --enable-priority-and-fairness=false \
    --kubelet-preferred-address-types Hostname \
    --profiling=false
}
# /readyz needs the token (anonymous requests are refused).
apiserver_healthy() { [ -s "$KUBE_TOKEN_FILE" ] && [ "$(kube_api GET /readyz 2>/dev/null)" = ok ]; }

scheduler_launch() {
  start_detached "$(kube_pid kube-scheduler)" "$(kube_log kube-scheduler)" "$KUBE_BIN/kube-scheduler" \
    --kubeconfig "$KUBE_CONFIG" --authentication-kubeconfig "$KUBE_CONFIG" \
    --authorization-kubeconfig "$KUBE_CONFIG" \
    --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false
}
scheduler_healthy() { curl -fsSk --max-time 2 https://127.0.0.1:10259/healthz 2>/dev/null | grep -q ok; }

kubelet_launch() {
  start_detached "$(kube_pid kubelet)" "$(kube_log kubelet)" "$KUBE_BIN/kubelet" \
    --config "$KUBE_STATE/kubelet/config.yaml" --kubeconfig "$KUBE_CONFIG" \
    --hostname-override "$KUBE_NODE" --node-ip 127.0.0.1 --root-dir "$KUBE_STATE/kubelet/root" \
    --cert-dir "$KUBE_STATE/kubelet/pki" --v=1
}
kubelet_healthy() { [ "$(curl -fsS --max-time 2 http://127.0.0.1:10248/healthz 2>/dev/null)" = ok ]; }

# The node is Ready, untainted, and reachable for pods/log: what a kube-controller-manager and a
# routable node address would give a real cluster. The kubelet refuses a loopback node IP and so
# publishes no address; `Hostname: localhost` (with --kubelet-preferred-address-types=Hostname)
# lets the apiserver reach it for logs.
kube_node_ready() {
  local node
  node=$(kube_api GET "/api/v1/nodes/$KUBE_NODE" 2>/dev/null) || return 1
  printf '%s' "$node" | tr -d ' \n' | grep -q '"type":"Ready","status":"True"' || return 1
  if printf '%s' "$node" | grep -q '"taints"'; then
    kube_api PATCH "/api/v1/nodes/$KUBE_NODE" -H 'Content-Type: application/merge-patch+json' \
      -d '{"spec":{"taints":null}}' >/dev/null || return 1
  fi
  if ! printf '%s' "$node" | tr -d ' \n' | grep -q '"addresses":\[{"type":"Hostname","address":"localhost"}\]'; then
    kube_api PATCH "/api/v1/nodes/$KUBE_NODE/status" -H 'Content-Type: application/merge-patch+json' \
      -d '{"status":{"addresses":[{"type":"Hostname","address":"localhost"}]}}' >/dev/null || return 1
  fi
}

kube_ensure_namespace() {
  kube_api GET "/api/v1/namespaces/$KUBE_ACTIONS_NAMESPACE" >/dev/null 2>&1 && return 0
  kube_api POST /api/v1/namespaces -H 'Content-Type: application/json' \
    -d "{\"metadata\":{\"name\":\"$KUBE_ACTIONS_NAMESPACE\"}}" >/dev/null
}

# The sandbox image: busybox sleeping, from Debian's busybox-static (no registry).
kube_pause_image() {
  DOCKER_HOST="unix://$DOCKER_SOCK" docker image inspect "$KUBE_PAUSE_IMAGE" >/dev/null 2>&1 && return 0
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/busybox"
  tar -C "$root" -c . | DOCKER_HOST="unix://$DOCKER_SOCK" docker import \
    --change 'CMD ["/bin/busybox", "sleep", "2147483647"]' - "$KUBE_PAUSE_IMAGE" >/dev/null
  rm -rf "$root"
}

# Copies every gust/* image of the stack's dockerd into containerd when its id changed since the
# last import (a rebuilt runtime image is picked up by the next `start kubernetes`).
kube_import_images() {
  local image id marker
  mkdir -p "$KUBE_STATE/imported"
  step "pause image $KUBE_PAUSE_IMAGE" kube_pause_image || return 1
  for image in $(DOCKER_HOST="unix://$DOCKER_SOCK" docker images --format '{{.Repository}}:{{.Tag}}' 'gust/*'); do
    id=$(DOCKER_HOST="unix://$DOCKER_SOCK" docker image inspect -f '{{.Id}}' "$image")
    marker="$KUBE_STATE/imported/${image//[^a-zA-Z0-9._-]/_}"
    [ "$(cat "$marker" 2>/dev/null)" = "$id" ] && kube_ctr images ls -q | grep -qx "docker.io/$image" && continue
    log "importing $image into the node's containerd"
    DOCKER_HOST="unix://$DOCKER_SOCK" docker save "$image" | kube_ctr images import - >/dev/null || return 1
    echo "$id" >"$marker"
  done
}

kubernetes_components_start() {
  service_start etcd "$(kube_pid etcd)" "$(kube_log etcd)" "$KUBE_TIMEOUT" etcd_healthy etcd_launch || return 1
  service_start containerd "$(kube_pid containerd)" "$(kube_log containerd)" "$KUBE_TIMEOUT" \
    containerd_healthy containerd_launch || return 1
  service_start kube-apiserver "$(kube_pid kube-apiserver)" "$(kube_log kube-apiserver)" "$KUBE_TIMEOUT" \
    apiserver_healthy apiserver_launch || return 1
  service_start kube-scheduler "$(kube_pid kube-scheduler)" "$(kube_log kube-scheduler)" "$KUBE_TIMEOUT" \
    scheduler_healthy scheduler_launch || return 1
  kube_import_images || return 1
  service_start kubelet "$(kube_pid kubelet)" "$(kube_log kubelet)" "$KUBE_TIMEOUT" \
    kubelet_healthy kubelet_launch || return 1
}

kubernetes_start() {
  kubernetes_install
  docker_start
  kube_write_config
  # The components count as one service for .ci/run's clean-up (`stack.sh stop kubernetes`).
  local outer="${GUST_STACK_STARTED_FILE:-}" inner rc=0
  inner=$(mktemp)
  GUST_STACK_STARTED_FILE="$inner" kubernetes_components_start || rc=1
  if [ -s "$inner" ] && [ -n "$outer" ]; then echo kubernetes >>"$outer"; fi
  rm -f "$inner"
  [ "$rc" -eq 0 ] || return 1
  wait_healthy "node $KUBE_NODE" "$KUBE_TIMEOUT" "$(read_pid "$(kube_pid kubelet)")" kube_node_ready \
    "$(kube_log kubelet)" || return 1
  kube_ensure_namespace || return 1
  log "kubernetes is ready: KUBECONFIG=$KUBE_CONFIG (namespace $KUBE_ACTIONS_NAMESPACE)"
}

# Pods Gust made go first (through the kubelet), then the components in reverse order. Pod
# containers run under containerd's shims, which outlive both the kubelet and containerd: every
# task left in the node's namespace is killed before containerd stops.
kubernetes_stop() {
  local i name task
  if apiserver_healthy && kubelet_healthy; then
    kube_api DELETE "/api/v1/namespaces/$KUBE_ACTIONS_NAMESPACE/pods?labelSelector=io.gust.managed%3Dtrue&gracePeriodSeconds=0" \
      >/dev/null 2>&1 || true
  fi
  for ((i = ${#KUBE_COMPONENTS[@]} - 1; i >= 0; i--)); do
    name=${KUBE_COMPONENTS[i]}
    if [ "$name" = containerd ] && containerd_healthy; then
      for task in $(kube_ctr tasks ls -q 2>/dev/null); do
        kube_ctr tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
        kube_ctr tasks delete -f "$task" >/dev/null 2>&1 || true
      done
    fi
    stop_pid "$name" "$(read_pid "$(kube_pid "$name")" || true)" 20
    rm -f "$(kube_pid "$name")"
  done
}

kubernetes_status() {
  local rc=0
  service_status etcd "$(kube_pid etcd)" 127.0.0.1:12379 etcd_healthy || rc=1
  service_status containerd "$(kube_pid containerd)" "unix://$KUBE_CONTAINERD_SOCK" containerd_healthy || rc=1
  service_status apiserver "$(kube_pid kube-apiserver)" "$KUBE_API (KUBECONFIG=$KUBE_CONFIG)" apiserver_healthy || rc=1
  service_status scheduler "$(kube_pid kube-scheduler)" 127.0.0.1:10259 scheduler_healthy || rc=1
  service_status kubelet "$(kube_pid kubelet)" "127.0.0.1:10250 (node $KUBE_NODE)" kubelet_healthy || rc=1
  return "$rc"
}
