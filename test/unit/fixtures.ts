// Small builders shared by the router and hot-path unit tests.
import type { Action, ActionLimits, ActionRef, Lease } from '../../common/types';

/** A lease of a container at `http://127.0.0.1/<id>`; `action` null makes it a stem cell. */
export function testLease(
  id: string,
  action: ActionRef | null,
  slots = 1,
  kind = 'nodejs:20',
  memoryMB = 256,
): Lease {
  return {
    action,
    slots,
    container: {
      id,
      name: id,
      host: 'host0',
      backend: 'process',
      address: `http://127.0.0.1/${id}`,
      kind,
      memoryMB,
      labels: {},
      createdAt: 0,
    },
  };
}

export function testAction(ref: ActionRef, limits: Partial<ActionLimits> = {}): Action {
  return {
    ...ref,
    exec: { kind: 'nodejs:20', code: 'function main(){return {}}' },
    parameters: [],
    annotations: [],
    limits: { timeout: 1000, memory: 256, logs: 10, concurrency: 1, ...limits },
    publish: false,
    updated: 0,
  };
}
