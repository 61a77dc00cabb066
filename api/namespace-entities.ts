// A namespace's entities as a whole (audit L5): what `npm run admin -- user delete` finds before it
// deletes a namespace's keys, and removes with `--purge`, so that a namespace created later under
// the same name does not inherit them. Through the entity store's public interface: every delete
// is recorded in its change feed, so the controllers drop what they cached. Activation records
// are not entities: they stay until they expire (GUST_ACTIVATION_TTL_SECONDS).
import type { Collection, EntityDocument, EntityStore } from '../store/entity-store';
import type { Trigger } from './trigger-model';

/** Rules before the triggers and actions they name; a package's actions before the package. */
const PURGE_ORDER = ['rules', 'triggers', 'actions', 'packages'] as const satisfies readonly Collection[];

export type EntityCounts = Record<Collection, number>;

export interface PurgeHooks {
  /** Runs before a trigger is deleted (its alarm schedule goes first: a failure leaves the trigger to retry). */
  beforeTriggerDelete?: (trigger: Trigger) => Promise<void>;
}

/** Every document under the root namespace, packages' contents included. */
export async function countNamespaceEntities(store: EntityStore, namespace: string): Promise<EntityCounts> {
  const counts = { rules: 0, triggers: 0, actions: 0, packages: 0 };
  for (const collection of PURGE_ORDER) counts[collection] = (await store.list(collection, namespace)).length;
  return counts;
}

export const totalOf = (counts: EntityCounts): number =>
  counts.actions + counts.packages + counts.triggers + counts.rules;

/** `3 action(s), 1 rule(s)`; `no entities` when there are none. */
export function describeCounts(counts: EntityCounts): string {
  const parts = PURGE_ORDER.filter((c) => counts[c] > 0).map((c) => `${counts[c]} ${c.slice(0, -1)}(s)`);
  return parts.length ? parts.join(', ') : 'no entities';
}

/** Deletes every entity of the root namespace; answers what it deleted. */
export async function purgeNamespaceEntities(
  store: EntityStore,
  namespace: string,
  hooks: PurgeHooks = {},
): Promise<EntityCounts> {
  const deleted = { rules: 0, triggers: 0, actions: 0, packages: 0 };
  for (const collection of PURGE_ORDER) {
    for (const doc of await store.list<EntityDocument>(collection, namespace)) {
      if (collection === 'triggers') await hooks.beforeTriggerDelete?.(doc as Trigger);
      if (await store.delete(collection, doc.namespace, doc.name)) deleted[collection] += 1;
    }
  }
  return deleted;
}
