// Pure builders between Gust's ContainerSpec/ContainerInfo and Docker's container objects, with
// OpenWhisk's limits (docs/reference/openwhisk-contract.md §6.1: DockerContainerFactory.scala).
//
// Isolation (audit C1): an action container has no network interface but loopback
// (`NetworkMode: none`, and `NetworkDisabled`: runc makes the namespace, with loopback up, and
// dockerd's libnetwork is not involved at all — half the cost of a create, and no share in the
// libnetwork deadlock of Debian's dockerd 20.10 when many containers exit at once, moby#42545;
// the /etc/hosts libnetwork would write is a read-only bind of LOOPBACK_HOSTS instead), so it
// can reach no other container, no host service (controller,
// Temporal, Cassandra, dockerd, the cloud metadata service) and nothing outside. This holds
// whatever the daemon's iptables setting: the dev dockerd runs with `--iptables=false`, where
// Docker's `enable_icc=false` and network isolation rules would do nothing, and a production
// dockerd with iptables gives the same result without any rule. The controller reaches the
// runtime over a unix socket in a host directory mounted at /gust (runtimes/runtime-address.ts);
// images that listen on TCP 8080 only get a forwarder container in their network namespace.
// Actions therefore have no network egress.
import { LABELS } from '../../common/names';
import type { ContainerInfo, ContainerSpec } from '../../common/types';
import { containerInfoFromLabels, containerLabels } from '../container-labels';
import { unixAddress } from '../../runtimes/runtime-address';
import type { DockerContainerJson, DockerContainerSummary } from './api';

const MB = 1024 * 1024;
/** An action container's /etc/hosts: `localhost` resolves as it does under Docker's own file. */
export const LOOPBACK_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
/** Where the runtime directory is mounted inside the container. */
export const RUNTIME_MOUNT = '/gust';
const RUNTIME_ENV = [
  `GUST_RUNTIME_SOCKET=${RUNTIME_MOUNT}/runtime.sock`,
  `GUST_RUNTIME_SECRET_FILE=${RUNTIME_MOUNT}/secret`,
];
/**
 * Audit M7. Gust's own runtimes need no capability at all and write only to /tmp, so they get
 * none, a read-only root filesystem and a /tmp in memory (counted against the container's memory
 * limit, so a full /tmp is an OOM kill, not a full host disk). A blackbox image may switch users
 * or write where it likes: it keeps Docker's defaults less these.
 */
const BLACKBOX_CAP_DROP = ['NET_RAW', 'NET_ADMIN', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP', 'SYS_CHROOT'];

function hardening(socketRuntime: boolean, memoryMB: number): Record<string, unknown> {
  if (!socketRuntime) return { CapDrop: BLACKBOX_CAP_DROP };
  return {
    CapDrop: ['ALL'],
    ReadonlyRootfs: true,
    Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${memoryMB}m,mode=1777` },
  };
}

/** Docker keeps at most this much of a container's output on disk (audit H2). */
export const LOG_ROTATION = { 'max-size': '10m', 'max-file': '2' };

export interface HostLimits {
  hostId: string;
  /** Memory this host offers to actions: CPU shares are the action's fraction of it. */
  capacityMB: number;
}

/** OpenWhisk: `max(1024 / (userMemory / actionMemory), 2)`. */
export function cpuShares(memoryMB: number, capacityMB: number): number {
  return Math.max(Math.floor((1024 * memoryMB) / capacityMB), 2);
}

/**
 * Body of `POST /containers/create`. `mountDir` is the host side of /gust (a Gust runtime's socket
 * and secret); images with a forwarder get no mount: the forwarder holds the socket.
 */
export function buildContainerConfig(
  spec: ContainerSpec,
  host: HostLimits,
  files: { mountDir: string; hostsFile: string },
): Record<string, unknown> {
  const memory = spec.memoryMB * MB;
  const socketRuntime = spec.socketRuntime ?? true;
  return {
    Image: spec.image,
    Env: [
      ...Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      ...(socketRuntime ? RUNTIME_ENV : []),
    ],
    Labels: containerLabels(spec, host.hostId),
    NetworkDisabled: true,
    HostConfig: {
      Memory: memory,
      // Equal to Memory: no swap, so going over the limit is an OOM kill, not a slow crawl.
      MemorySwap: memory,
      CpuShares: cpuShares(spec.memoryMB, host.capacityMB),
      PidsLimit: 1024,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      ...hardening(socketRuntime, spec.memoryMB),
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: 'none',
      Binds: [
        ...(socketRuntime ? [`${files.mountDir}:${RUNTIME_MOUNT}`] : []),
        `${files.hostsFile}:/etc/hosts:ro`,
      ],
      LogConfig: { Type: 'json-file', Config: LOG_ROTATION },
    },
  };
}

/** The forwarder of a TCP-only image: Gust's runtime image running `forward.js` in the action's network namespace. */
export function buildForwarderConfig(
  actionContainerId: string,
  spec: ContainerSpec,
  host: HostLimits,
  options: { image: string; mountDir: string },
): Record<string, unknown> {
  const memory = 64 * MB;
  return {
    Image: options.image,
    Cmd: ['/usr/local/bin/node', 'forward.js'],
    Env: RUNTIME_ENV,
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.host]: host.hostId,
      [LABELS.forwarderOf]: spec.name,
      ...(spec.labels[LABELS.owner] ? { [LABELS.owner]: spec.labels[LABELS.owner] } : {}),
    },
    HostConfig: {
      Memory: memory,
      MemorySwap: memory,
      PidsLimit: 64,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: `container:${actionContainerId}`,
      Binds: [`${options.mountDir}:${RUNTIME_MOUNT}`],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
    },
  };
}

/** Name of the forwarder of the action container `name`. */
export const forwarderName = (name: string): string => `${name}.fwd`;

function infoFrom(
  id: string,
  name: string,
  labels: Record<string, string>,
  socketPath: string,
  createdAt: number,
): ContainerInfo {
  return containerInfoFromLabels(labels, {
    id,
    name: name.replace(/^\//, ''),
    backend: 'docker',
    address: unixAddress(socketPath),
    createdAt,
  });
}

/** `socketOf(name)`: the runtime socket of the container called `name` (backends/runtime-dir.ts). */
export function containerInfoFromInspect(
  container: DockerContainerJson,
  socketOf: (name: string) => string,
): ContainerInfo {
  const name = container.Name.replace(/^\//, '');
  return infoFrom(
    container.Id,
    name,
    container.Config.Labels ?? {},
    socketOf(name),
    Date.parse(container.Created),
  );
}

export function containerInfoFromSummary(
  container: DockerContainerSummary,
  socketOf: (name: string) => string,
): ContainerInfo {
  const name = (container.Names[0] ?? '').replace(/^\//, '');
  return infoFrom(container.Id, name, container.Labels ?? {}, socketOf(name), container.Created * 1000);
}

/** `{a: 'b'}` → `['a=b']`, the label filter of the list and events endpoints. */
export function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`);
}
