// OpenWhisk parameters and annotations: `[{key, value}]` arrays that behave as maps
// (entity/Parameter.scala): a later key replaces an earlier one.
import type { KeyValue } from '../common/types';

/** Later entries win; order of first appearance is kept. */
export function mergeKeyValues(...lists: (readonly KeyValue[] | undefined)[]): KeyValue[] {
  const merged = new Map<string, KeyValue>();
  for (const list of lists) {
    for (const entry of list ?? []) merged.set(entry.key, entry);
  }
  return [...merged.values()];
}

export function withoutKeys(list: readonly KeyValue[], keys: readonly string[]): KeyValue[] {
  const drop = new Set(keys);
  return list.filter((entry) => !drop.has(entry.key));
}

export function keyValueOf(list: readonly KeyValue[], key: string): unknown {
  for (const entry of list) if (entry.key === key) return entry.value;
  return undefined;
}

export function keyValuesToObject(list: readonly KeyValue[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const entry of list) object[entry.key] = entry.value;
  return object;
}

/** Serialized size in bytes, as OpenWhisk measures parameters and annotations. */
export function jsonSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * An annotation's truth as OpenWhisk reads it (`isTruthy`): anything but false, null, 0 and "";
 * `whenAbsent` for a missing one.
 */
export function isTruthy(value: unknown, whenAbsent = false): boolean {
  if (value === undefined) return whenAbsent;
  return value !== false && value !== null && value !== 0 && value !== '';
}
