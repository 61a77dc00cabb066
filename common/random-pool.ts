// Random bytes for the ids made on every request (transaction and activation ids), drawn from
// OpenSSL 8 KiB at a time, as randomUUID does: one call per many ids, not one per id.
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 8 * 1024;
let pool = Buffer.alloc(0);
let used = 0;

/** `count` (≤ 8 KiB) fresh random bytes: a view into the pool, to read before the next call. */
export function takeRandomBytes(count: number): Buffer {
  if (used + count > pool.length) {
    pool = randomBytes(Math.max(POOL_BYTES, count));
    used = 0;
  }
  used += count;
  return pool.subarray(used - count, used);
}
