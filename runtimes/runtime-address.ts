// How the controller addresses a runtime that listens on a unix socket (the docker and process
// backends), and where it finds that runtime's secret. A container's host directory holds:
//   <dir>/secret             the per-container secret, for the controller (never mounted)
//   <dir>/rt/                mounted into the container at /gust
//   <dir>/rt/runtime.sock    the runtime's socket (the container's runtime port)
//   <dir>/rt/secret          the secret for the runtime, which reads and deletes it at start
// The address is `unix:<dir>/rt/runtime.sock`. Unix socket paths are short (108 bytes), so
// <dir> is named by a hash of the container name, not by the name.
import { dirname, join } from 'node:path';

const UNIX_PREFIX = 'unix:';

export function unixAddress(socketPath: string): string {
  return `${UNIX_PREFIX}${socketPath}`;
}

/** The socket path of a `unix:` address, undefined for an http(s) URL. */
export function socketPathOf(address: string): string | undefined {
  return address.startsWith(UNIX_PREFIX) ? address.slice(UNIX_PREFIX.length) : undefined;
}

/** The controller's copy of the secret of the runtime listening on `socketPath`. */
export function secretFileOf(socketPath: string): string {
  return join(dirname(dirname(socketPath)), 'secret');
}
