// The labels every Gust container carries, whatever the backend, on top of the spec's own: what
// reconcile and clean-up list by (managed, host) and what a container's info is rebuilt from.
import { LABELS } from '../common/names';
import type { ContainerInfo, ContainerSpec } from '../common/types';

export function containerLabels(spec: ContainerSpec, hostId: string): Record<string, string> {
  return {
    ...spec.labels,
    [LABELS.managed]: 'true',
    [LABELS.host]: hostId,
    [LABELS.kind]: spec.kind,
    [LABELS.memory]: String(spec.memoryMB),
  };
}

/**
 * A container's info rebuilt from its labels (host, kind, memory: what `containerLabels` wrote)
 * and what only the engine knows (id, name, address, creation time).
 */
export function containerInfoFromLabels(
  labels: Record<string, string>,
  engine: Pick<ContainerInfo, 'id' | 'name' | 'backend' | 'address' | 'createdAt'>,
): ContainerInfo {
  return {
    id: engine.id,
    name: engine.name,
    host: labels[LABELS.host] ?? '',
    backend: engine.backend,
    address: engine.address,
    kind: labels[LABELS.kind] ?? '',
    memoryMB: Number(labels[LABELS.memory] ?? 0),
    labels,
    createdAt: engine.createdAt,
  };
}
