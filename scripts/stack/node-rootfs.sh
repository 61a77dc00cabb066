#!/usr/bin/env bash
# Assembles a minimal root filesystem that runs this machine's node binary, for `docker import`
# (no image registry is reachable here, so images are built from the host's own files):
#   node-rootfs.sh <dir>            # then add your files to <dir> and:
#   tar -C <dir> -c . | docker import - my-image:tag
# Contents: <dir>/usr/local/bin/node, every shared library `ldd` lists (at the same path, plus
# the dynamic loader), and the empty directories a container needs (scripts/stack/rootfs.sh).
# Idempotent.
set -euo pipefail
# shellcheck source=scripts/stack/rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh"

dir="${1:?usage: node-rootfs.sh <dir>}"
node_bin="$(readlink -f "${GUST_NODE_BINARY:-$(command -v node)}")"
[ -x "$node_bin" ] || { echo "node-rootfs.sh: no node binary found (set GUST_NODE_BINARY)" >&2; exit 1; }

rootfs_base "$dir"
mkdir -p "$dir/app"
rootfs_add_bin "$dir" "$node_bin" node

echo "node-rootfs.sh: $("$node_bin" --version) in $dir ($(du -sh "$dir" | cut -f1))" >&2
