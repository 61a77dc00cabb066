# shellcheck shell=bash
# Helpers that assemble a container root filesystem from this machine's own files, for
# `docker import` (no image registry is reachable here). Sourced by node-rootfs.sh and
# scripts/compose/build-images.sh.

# rootfs_base <dir>: the empty directories a container needs, a root passwd/group entry (node's
# os.userInfo(), Java's user.home) and a world-writable /tmp. Docker bind-mounts /etc/hosts,
# /etc/resolv.conf and /etc/hostname itself.
rootfs_base() {
  local dir="$1"
  mkdir -p "$dir"/{usr/local/bin,tmp,etc,proc,sys,dev}
  chmod 1777 "$dir/tmp"
  [ -f "$dir/etc/passwd" ] || echo 'root:x:0:0:root:/tmp:/bin/false' >"$dir/etc/passwd"
  [ -f "$dir/etc/group" ] || echo 'root:x:0:' >"$dir/etc/group"
}

# rootfs_add_libs <dir> <elf>...: every shared library `ldd` lists for each file, at the path it is
# listed under (and its real file when that is a symlink), plus the dynamic loader. Files that are
# not dynamic executables or libraries (static binaries, scripts) are skipped.
rootfs_add_libs() {
  local dir="$1" elf lib path
  shift
  for elf in "$@"; do
    # `ldd` prints "libx.so => /path (addr)" and the loader as "/lib64/ld-linux-x86-64.so.2 (addr)".
    for lib in $(ldd "$elf" 2>/dev/null | grep -oE '/[^ ]+' || true); do
      for path in "$lib" "$(readlink -f "$lib")"; do
        [ -e "$dir$path" ] && continue
        mkdir -p "$dir$(dirname "$path")"
        cp -L "$path" "$dir$path"
      done
    done
  done
}

# rootfs_add_bin <dir> <binary> [<name>]: a host executable at /usr/local/bin/<name>, with its libraries.
rootfs_add_bin() {
  local dir="$1" bin
  bin="$(readlink -f "$2")"
  install -D -m 0755 "$bin" "$dir/usr/local/bin/${3:-$(basename "$2")}"
  rootfs_add_libs "$dir" "$bin"
}
