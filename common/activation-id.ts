// Activation ids: 32 lowercase hex, as OpenWhisk's (entity/ActivationId.scala) and opaque to its
// clients, laid out as a UUIDv7 without dashes (RFC 9562 §5.7): the creation time in ms, then
// random bits. The Cassandra store reads the time back to find a record's partition, so records
// written in the same second go to Cassandra as one partition's mutation, not one per record
// (measured: half of Cassandra's CPU per record). Ids of other layouts (OpenWhisk's random UUIDs,
// records written before) stay valid everywhere; `activationIdTime` answers undefined for them.
import { takeRandomBytes } from './random-pool';

const RANDOM_BYTES = 10;
const HEX = /^[0-9a-f]{32}$/;

/** A new id for an activation created at `now` (ms since the epoch, 0 ≤ now < 2^48). */
export function newActivationId(now: number = Date.now()): string {
  const random = takeRandomBytes(RANDOM_BYTES).toString('hex');
  // 48-bit time, version 7, 12 random bits, variant 10xx, 62 random bits.
  const variant = ((parseInt(random[3]!, 16) & 0x3) | 0x8).toString(16);
  return `${now.toString(16).padStart(12, '0')}7${random.slice(0, 3)}${variant}${random.slice(4, 19)}`;
}

/** The creation time of an id made by `newActivationId`; undefined for any other id. */
export function activationIdTime(id: string): number | undefined {
  if (id.length !== 32 || id.charCodeAt(12) !== 0x37 /* '7' */ || !HEX.test(id)) return undefined;
  return parseInt(id.slice(0, 12), 16);
}
