// Pure builders between Gust's ContainerSpec/ContainerInfo and Docker's container objects, with
// OpenWhisk's limits (contract §6.1: DockerContainerFactory.scala).
import { LABELS } from '../../common/names';
import type { ContainerInfo, ContainerSpec } from '../../common/types';
import { containerLabels } from '../container-labels';
import type { DockerContainerJson, DockerContainerSummary } from './api';

export const RUNTIME_PORT = '8080/tcp';
const MB = 1024 * 1024;

export interface HostLimits {
  hostId: string;
  /** Memory this host offers to actions: CPU shares are the action's fraction of it. */
  capacityMB: number;
}

/** OpenWhisk: `max(1024 / (userMemory / actionMemory), 2)`. */
export function cpuShares(memoryMB: number, capacityMB: number): number {
  return Math.max(Math.floor((1024 * memoryMB) / capacityMB), 2);
}

/** Body of `POST /containers/create`. The runtime port is published on 127.0.0.1 only, on a free port. */
export function buildContainerConfig(spec: ContainerSpec, host: HostLimits): Record<string, unknown> {
  const memory = spec.memoryMB * MB;
  return {
    Image: spec.image,
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    Labels: containerLabels(spec, host.hostId),
    ExposedPorts: { [RUNTIME_PORT]: {} },
    HostConfig: {
      Memory: memory,
      // Equal to Memory: no swap, so going over the limit is an OOM kill, not a slow crawl.
      MemorySwap: memory,
      CpuShares: cpuShares(spec.memoryMB, host.capacityMB),
      PidsLimit: 1024,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      CapDrop: ['NET_RAW', 'NET_ADMIN'],
      NetworkMode: 'bridge',
      PortBindings: { [RUNTIME_PORT]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
      LogConfig: { Type: 'json-file', Config: {} },
    },
  };
}

/** The host port docker bound to the runtime port, once the container has started. */
export function publishedPort(container: DockerContainerJson): number | undefined {
  const binding =
    container.NetworkSettings.Ports?.[RUNTIME_PORT]?.find((b) => b.HostIp === '127.0.0.1') ??
    container.NetworkSettings.Ports?.[RUNTIME_PORT]?.[0];
  return binding ? Number(binding.HostPort) : undefined;
}

function infoFrom(
  id: string,
  name: string,
  labels: Record<string, string>,
  port: number | undefined,
  createdAt: number,
): ContainerInfo {
  return {
    id,
    name: name.replace(/^\//, ''),
    host: labels[LABELS.host] ?? '',
    backend: 'docker',
    address: port === undefined ? '' : `http://127.0.0.1:${port}`,
    kind: labels[LABELS.kind] ?? '',
    memoryMB: Number(labels[LABELS.memory] ?? 0),
    labels,
    createdAt,
  };
}

export function containerInfoFromInspect(container: DockerContainerJson): ContainerInfo {
  return infoFrom(
    container.Id,
    container.Name,
    container.Config.Labels ?? {},
    publishedPort(container),
    Date.parse(container.Created),
  );
}

export function containerInfoFromSummary(container: DockerContainerSummary): ContainerInfo {
  const port = container.Ports.find(
    (p) => p.PrivatePort === 8080 && p.Type === 'tcp' && p.PublicPort !== undefined,
  );
  return infoFrom(
    container.Id,
    container.Names[0] ?? '',
    container.Labels ?? {},
    port?.PublicPort,
    container.Created * 1000,
  );
}

/** `{a: 'b'}` → `['a=b']`, the label filter of the list and events endpoints. */
export function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`);
}
