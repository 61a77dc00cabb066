// The labels every Gust container carries, whatever the backend, on top of the spec's own: what
// reconcile and clean-up list by (managed, host) and what a container's info is rebuilt from.
import { LABELS } from '../common/names';
import type { ContainerSpec } from '../common/types';

export function containerLabels(spec: ContainerSpec, hostId: string): Record<string, string> {
  return {
    ...spec.labels,
    [LABELS.managed]: 'true',
    [LABELS.host]: hostId,
    [LABELS.kind]: spec.kind,
    [LABELS.memory]: String(spec.memoryMB),
  };
}
