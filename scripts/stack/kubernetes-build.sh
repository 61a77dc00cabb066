# shellcheck shell=bash
# Builds the Kubernetes control-plane binaries from the Go module proxy into
# $GUST_CACHE_DIR/kubernetes/<version>/bin: kube-apiserver, kube-scheduler and kubelet from a wrapper
# module requiring k8s.io/kubernetes, etcd from a second wrapper requiring go.etcd.io/etcd/server/v3.
# k8s.io/kubernetes maps its staging modules (k8s.io/api, client-go, ...) to ./staging/src; a module
# that depends on it must replace each with the matching v0.<minor>.<patch> release. The list is
# generated from that version's own go.mod, so a version bump needs no hand edits.
# Sourced by kubernetes.sh.

KUBE_VERSION="${GUST_KUBE_VERSION:-v1.35.4}"
ETCD_VERSION="${GUST_ETCD_VERSION:-v3.6.13}"
KUBE_BIN="$GUST_CACHE_DIR/kubernetes/$KUBE_VERSION-etcd$ETCD_VERSION/bin"
KUBE_BINARIES=(kube-apiserver kube-scheduler kubelet)

kube_go() {
  local go
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || die "Go (>= 1.25) is needed to build the Kubernetes control plane"
  # Caches of their own: the Temporal build removes $GUST_CACHE_DIR/go when it is done.
  GOMODCACHE="$GUST_CACHE_DIR/kubernetes/go/mod" GOCACHE="$GUST_CACHE_DIR/kubernetes/go/build" \
    GOFLAGS=-modcacherw CGO_ENABLED=0 GOTOOLCHAIN=local "$go" "$@"
}

kube_binaries_present() {
  local b
  for b in "${KUBE_BINARIES[@]}" etcd; do [ -x "$KUBE_BIN/$b" ] || return 1; done
}

# Writes the k8s wrapper's go.mod into $1: require k8s.io/kubernetes plus the generated replaces.
kube_wrapper_gomod() {
  local dir="$1" gomod staging="v0.${KUBE_VERSION#v1.}"
  gomod=$(cd "$dir" && kube_go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  [ -s "$gomod" ] || die "go mod download k8s.io/kubernetes@$KUBE_VERSION named no go.mod"
  {
    echo "module gust.local/kubebins"
    echo
    echo "go 1.25"
    # The same GODEBUG defaults Kubernetes itself is built with.
    grep -m1 '^godebug ' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/k8s\.io/.*$#\t\1 => \1 '"$staging"'#p' "$gomod"
    echo ")"
  } >"$dir/go.mod"
  grep -q 'k8s.io/client-go =>' "$dir/go.mod" || die "no staging replaces found in $gomod"
  log "generated $(grep -c ' => ' "$dir/go.mod") staging replaces from $gomod"
}

kube_build() {
  if kube_binaries_present; then
    log "Kubernetes $KUBE_VERSION and etcd $ETCD_VERSION binaries are cached in $KUBE_BIN"
    return 0
  fi
  mkdir -p "$KUBE_BIN"
  # Concurrent starts wait for one build.
  (
    flock 9
    kube_binaries_present || kube_build_locked
  ) 9>"$KUBE_BIN/.build.lock"
}

kube_build_locked() {
  local src="$GUST_CACHE_DIR/kubernetes/src" b pkg ver
  mkdir -p "$src/kube" "$src/etcd" "$KUBE_BIN"
  log "building etcd $ETCD_VERSION and Kubernetes $KUBE_VERSION with $(kube_go version | cut -d' ' -f3) (cold: ~8 min on 2 cores)"

  printf 'module gust.local/etcdbin\n\ngo 1.25\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$src/etcd/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$src/etcd/tools.go"
  if [ ! -x "$KUBE_BIN/etcd" ]; then
    (cd "$src/etcd" && kube_go mod tidy && kube_go build -trimpath -ldflags "-s -w" -o "$KUBE_BIN/etcd.tmp" go.etcd.io/etcd/server/v3) ||
      die "building etcd $ETCD_VERSION failed (is the Go module proxy reachable?)"
    mv "$KUBE_BIN/etcd.tmp" "$KUBE_BIN/etcd"
  fi

  kube_wrapper_gomod "$src/kube"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for b in "${KUBE_BINARIES[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b"; done
    printf ')\n'
  } >"$src/kube/tools.go"
  (cd "$src/kube" && kube_go mod tidy) || die "go mod tidy of the Kubernetes wrapper failed"
  ver="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1"
  ver="$ver -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
  for b in "${KUBE_BINARIES[@]}"; do
    [ -x "$KUBE_BIN/$b" ] && continue
    pkg="k8s.io/kubernetes/cmd/$b"
    step "go build $b" bash -c 'cd "$1" && shift && "$@"' _ "$src/kube" \
      env GOMODCACHE="$GUST_CACHE_DIR/kubernetes/go/mod" GOCACHE="$GUST_CACHE_DIR/kubernetes/go/build" \
      GOFLAGS=-modcacherw CGO_ENABLED=0 GOTOOLCHAIN=local "$(command -v go || echo /usr/local/go/bin/go)" \
      build -trimpath -ldflags "-s -w $ver" -o "$KUBE_BIN/$b.tmp" "$pkg" ||
      die "building $b failed"
    mv "$KUBE_BIN/$b.tmp" "$KUBE_BIN/$b"
  done
  # The module and build caches (several GB) only serve rebuilding the same binaries.
  if [ -z "${GUST_KEEP_GO_CACHE:-}" ]; then rm -rf "$GUST_CACHE_DIR/kubernetes/go" "$src"; fi
}
