// Builders of pool records (workflows/messages.ts PoolContainer) for the pool state unit tests.
import type { ActionSpec, CreatingContainer, LeasedContainer, PoolContainer } from '../../workflows/messages';
import { testLease } from './fixtures';

export const spec = (version = '0.0.1', updated = 1, slots = 1): ActionSpec => ({
  ref: { namespace: 'guest', name: 'a', version },
  kind: 'nodejs:20',
  memoryMB: 256,
  slots,
  updated,
});

/** A container leased to `controllerId`; its backend id is `id`. */
export const leased = (id: string, over: Partial<LeasedContainer> = {}): LeasedContainer => ({
  name: `gust_${id}`,
  memoryMB: 256,
  host: 'host0',
  version: '0.0.1',
  state: 'leased',
  info: testLease(id, null).container,
  controllerId: 'c1',
  incarnation: 'i1',
  since: 0,
  leasedAt: 10,
  removal: null,
  ...over,
});

/** A container recorded but not leased yet; `id` set: created, its lease on its way. */
export const creating = (
  name: string,
  id: string | null = null,
  over: Partial<CreatingContainer> = {},
): CreatingContainer => ({
  name,
  memoryMB: 256,
  host: id === null ? null : 'host0',
  version: '0.0.1',
  state: 'creating',
  info: id === null ? null : testLease(id, null).container,
  controllerId: 'c1',
  incarnation: null,
  since: 0,
  leasedAt: null,
  removal: null,
  ...over,
});

/** `[state, removal reason or null]` of each record, for compact expectations. */
export const shapes = (records: readonly PoolContainer[]): [string, string, string | null][] =>
  records.map((c) => [c.name, c.state, c.removal?.reason ?? null]);
