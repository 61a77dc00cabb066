# shellcheck shell=bash
# Shared helpers for the dev stack scripts: paths, logging, step timing, pid files, health waits.
# Sourced (not executed) by stack.sh, test.sh and start.sh.

# Same fallback as Node's os.homedir(), so the scripts and common/config.ts agree on the paths.
export HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
# Downloads and builds live outside the work tree so a fresh clone reuses them.
GUST_CACHE_DIR="${GUST_CACHE_DIR:-$HOME/.cache/gust}"
GUST_STATE_DIR="${GUST_STATE_DIR:-$HOME/.local/state/gust}"
STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$STACK_DIR/../.." && pwd)"
export GUST_CACHE_DIR GUST_STATE_DIR

log() { printf '[stack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

now_ms() { date +%s%3N; }
# "12.3s" from a start time in ms.
elapsed_since() { awk -v d="$(($(now_ms) - $1))" 'BEGIN { printf "%.1fs", d / 1000 }'; }

# step "what" cmd args...: prints what it does and how long it took; keeps the exit status.
# Timings are also appended to $GUST_STEP_TIMINGS (a file) when set, for the summaries.
step() {
  local what="$1" start rc=0
  shift
  log "→ $what"
  start=$(now_ms)
  "$@" || rc=$?
  local took
  took=$(elapsed_since "$start")
  if [ "$rc" -eq 0 ]; then log "✓ $what ($took)"; else log "✗ $what failed with status $rc ($took)"; fi
  if [ -n "${GUST_STEP_TIMINGS:-}" ]; then
    printf '%-8s %s  %s\n' "$took" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" "$what" >>"$GUST_STEP_TIMINGS"
  fi
  return "$rc"
}

# Root can install packages; anyone else gets a clear message instead.
apt_install() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "missing $*: install it (Debian package: $*) or run as root so apt-get can"
  fi
  log "installing Debian packages: $*"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; then
    die "apt-get install $* failed"
  fi
}

read_pid() { [ -s "$1" ] && tr -dc '0-9' <"$1"; }
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# start_detached pidfile logfile cmd args...: runs cmd in its own session (so a Ctrl-C in the
# terminal that started it does not reach it) with output to logfile; the pid is written by the
# child itself, so it is the real pid of cmd and not of a wrapper.
start_detached() {
  local pidfile="$1" logfile="$2"
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$ and $0 expand in the child shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  for _ in $(seq 50); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  die "could not start $1: no pid file $pidfile"
}

# stop_pid name pid [grace_seconds]: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" grace="${3:-20}"
  pid_alive "$pid" || return 0
  log "stopping $name (pid $pid, SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((grace * 10))); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "$name did not stop within ${grace}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  die "$name (pid $pid) survived SIGKILL"
}

# wait_healthy name timeout_s pid check_fn logfile: polls check_fn until it succeeds. Fails
# early when the process dies, and at the timeout; prints the log tail either way.
wait_healthy() {
  local name="$1" timeout="$2" pid="$3" check="$4" logfile="$5" deadline
  deadline=$(($(date +%s) + timeout))
  while ! "$check"; do
    if ! pid_alive "$pid"; then
      log "$name (pid $pid) exited during startup; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "$name not healthy after ${timeout}s; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      return 1
    fi
    sleep 1
  done
}

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# The runtime image script belongs to runtimes/; it is optional until it exists.
build_runtime_image() {
  local script
  for script in runtimes/build-image.sh runtimes/build-images.sh; do
    if [ -f "$REPO_DIR/$script" ]; then
      step "build the runtime image ($script)" bash "$REPO_DIR/$script"
      return
    fi
  done
  log "no runtimes/build-image.sh yet: skipping the runtime image"
}

# service_start name pidfile logfile timeout check_fn launch_fn: idempotent start.
#  - healthy already (whoever started it): nothing to do;
#  - our process alive but not healthy: wait up to the timeout once, then kill and restart;
#  - pid file without a process: restart.
# Services this call really launched are appended to $GUST_STACK_STARTED_FILE when set, so that
# .ci/run stops only what it started.
service_start() {
  local name="$1" pidfile="$2" logfile="$3" timeout="$4" check="$5" launch="$6" pid
  if "$check"; then
    log "$name is already running and healthy (pid $(read_pid "$pidfile" || echo '?'))"
    return 0
  fi
  pid=$(read_pid "$pidfile" || true)
  if pid_alive "$pid"; then
    log "$name (pid $pid) is running but not healthy: waiting up to ${timeout}s"
    if wait_healthy "$name" "$timeout" "$pid" "$check" "$logfile"; then return 0; fi
    log "$name (pid $pid) is half-started: restarting it"
    stop_pid "$name" "$pid" 10
  elif [ -n "$pid" ]; then
    log "$name: stale pid file $pidfile (no process $pid): restarting"
  fi
  rm -f "$pidfile"
  mkdir -p "$(dirname "$logfile")"
  printf '\n==== %s: started by scripts/stack at %s ====\n' "$name" "$(date -Is)" >>"$logfile"
  "$launch" || return 1
  pid=$(read_pid "$pidfile")
  if ! wait_healthy "$name" "$timeout" "$pid" "$check" "$logfile"; then
    stop_pid "$name" "$pid" 10
    rm -f "$pidfile"
    return 1
  fi
  log "$name is healthy (pid $pid)"
  if [ -n "${GUST_STACK_STARTED_FILE:-}" ]; then echo "$name" >>"$GUST_STACK_STARTED_FILE"; fi
}

# service_status name pidfile address check_fn: one line per service.
service_status() {
  local name="$1" pidfile="$2" addr="$3" check="$4" pid state
  pid=$(read_pid "$pidfile" || true)
  if "$check"; then
    state=healthy
  elif pid_alive "$pid"; then
    state="running, not healthy"
  else
    state=stopped
    [ -n "$pid" ] && state="stopped (stale pid file)"
    pid=""
  fi
  if [ "$state" = healthy ] && ! pid_alive "$pid"; then pid="? (not started by scripts/stack)"; fi
  printf '%-10s %-22s pid %-8s %s\n' "$name" "$state" "${pid:--}" "$addr"
  [ "$state" = healthy ]
}
