// The activation store contract. Implementations: store/sqlite and store/cassandra; both pass
// test/integration/store-contract.test.ts.
import type { Activation } from '../common/types';

export interface ActivationQuery {
  /** `action` or `pkg/action` (see `activationFilterName`). */
  name?: string;
  /** Epoch ms, inclusive bounds on `start`. */
  since?: number;
  upto?: number;
  skip: number;
  limit: number;
  /** Aborted when the caller has gone away: a listing stops between its queries. */
  signal?: AbortSignal;
}

export interface ActivationStore {
  /** Idempotent by activation id: writing the same record twice stores it once. */
  putBatch(records: readonly Activation[]): Promise<void>;
  get(namespace: string, activationId: string): Promise<Activation | undefined>;
  /** Newest `start` first. Records in a listing may have `logs: []`; `get` returns them whole. */
  list(namespace: string, query: ActivationQuery): Promise<Activation[]>;
  count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number>;
  close(): Promise<void>;
}

/**
 * The name an activation is listed under: `pkg/action` for an action inside a package (taken from
 * the `path` annotation `ns/pkg/action`), otherwise the plain name.
 */
export function activationFilterName(activation: Pick<Activation, 'name' | 'annotations'>): string {
  const path = activation.annotations.find((a) => a.key === 'path')?.value;
  if (typeof path === 'string') {
    const parts = path.split('/');
    if (parts.length === 3) return `${parts[1]}/${parts[2]}`;
  }
  return activation.name;
}
