// Audit H4: the entity cache is bounded by what its documents weigh, not only by their count, so
// a few tenants with 48 MB of code each cannot fill the controller's heap; the oldest go first,
// and a document larger than the whole budget is served without being kept. Over the real
// SQLite store (in memory).
import { approxBytes, EntityCache } from '../../api/entity-cache';
import type { EntityDocument } from '../../store/entity-store';
import { openSqliteDatabase } from '../../store/sqlite/open-database';
import { SqliteEntityStore } from '../../store/sqlite/sqlite-entity-store';

const MB = 1024 * 1024;
const action = (name: string, codeMB: number): EntityDocument & { exec: { code: string } } => ({
  namespace: 'guest',
  name,
  updated: 1,
  exec: { code: 'x'.repeat(codeMB * MB) },
});

test('approxBytes weighs strings by length and every field a little, without walking characters', () => {
  expect(approxBytes({ a: 'xy', b: [1, null] })).toBe(16 + (16 + 4) + (16 + 16 + 16));
  expect(approxBytes(action('a', 1))).toBeGreaterThan(2 * MB);
});

test('documents past the byte budget push the oldest out; one larger than the budget is not kept', async () => {
  const store = new SqliteEntityStore(openSqliteDatabase(':memory:'));
  // Each 1 MB of code weighs 2 MB (UTF-16); the budget holds two such actions, not three.
  const cache = new EntityCache(store, { maxBytes: 5 * MB });
  for (const name of ['a1', 'a2', 'a3']) await cache.put('actions', action(name, 1), 'create');
  expect(cache.size().entries).toBe(2);
  expect(cache.size().bytes).toBeLessThanOrEqual(5 * MB);

  const before = cache.stats().misses;
  await cache.get('actions', 'guest', 'a1'); // the oldest went: read from the store again
  await cache.get('actions', 'guest', 'a3');
  expect(cache.stats().misses - before).toBe(1);

  await cache.put('actions', action('huge', 3), 'create');
  expect((await cache.get<ReturnType<typeof action>>('actions', 'guest', 'huge'))?.exec.code.length).toBe(
    3 * MB,
  );
  expect(cache.size().bytes).toBeLessThanOrEqual(5 * MB);
  await cache.delete('actions', 'guest', 'a3');
  await cache.delete('actions', 'guest', 'a1');
  expect(cache.size()).toEqual({ entries: 0, bytes: 0 });
});
