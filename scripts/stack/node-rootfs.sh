#!/usr/bin/env bash
# Assembles a minimal root filesystem that runs this machine's node binary, for `docker import`
# (no image registry is reachable here, so images are built from the host's own files):
#   node-rootfs.sh <dir>            # then add your files to <dir> and:
#   tar -C <dir> -c . | docker import - my-image:tag
# Contents: <dir>/usr/local/bin/node, every shared library `ldd` lists (at the same path, plus
# the dynamic loader), and the empty directories a container needs. Idempotent.
set -euo pipefail

dir="${1:?usage: node-rootfs.sh <dir>}"
node_bin="$(readlink -f "${GUST_NODE_BINARY:-$(command -v node)}")"
[ -x "$node_bin" ] || { echo "node-rootfs.sh: no node binary found (set GUST_NODE_BINARY)" >&2; exit 1; }

mkdir -p "$dir"/{usr/local/bin,tmp,etc,proc,sys,dev,app}
chmod 1777 "$dir/tmp"
install -m 0755 "$node_bin" "$dir/usr/local/bin/node"

# `ldd` prints "libx.so => /path (addr)" and the loader as "/lib64/ld-linux-x86-64.so.2 (addr)".
# Copy each at the path it is listed under, and also its real file when that is a symlink.
for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do
  for path in "$lib" "$(readlink -f "$lib")"; do
    mkdir -p "$dir$(dirname "$path")"
    cp -L "$path" "$dir$path"
  done
done

# Docker bind-mounts /etc/hosts, /etc/resolv.conf and /etc/hostname; node wants a passwd entry
# for os.userInfo() and a writable HOME.
[ -f "$dir/etc/passwd" ] || echo 'root:x:0:0:root:/tmp:/bin/false' >"$dir/etc/passwd"
[ -f "$dir/etc/group" ] || echo 'root:x:0:' >"$dir/etc/group"

echo "node-rootfs.sh: $("$node_bin" --version) in $dir ($(du -sh "$dir" | cut -f1))" >&2
