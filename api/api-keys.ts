// API keys: `<uuid>:<64-char secret>` (docs/reference/openwhisk-contract.md §1.2). Stored as a
// salted sha256 of the secret. A fast hash is enough here: secrets are 64 random characters (~380
// bits), far beyond brute force; slow hashes defend low-entropy passwords, which these are not.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AuthKeyRecord } from '../store/entity-store';
import { sealApiKey } from './action-keys';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const SECRET_LENGTH = 64;

/** OpenWhisk's well-known development key of namespace `guest` (ansible/files/auth.guest). */
export const GUEST_API_KEY =
  '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
export const GUEST_UUID = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502';
export const GUEST_NAMESPACE = 'guest';

const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function generateSecret(): string {
  // 64 characters from 62 symbols; rejection sampling keeps them uniform.
  let secret = '';
  while (secret.length < SECRET_LENGTH) {
    for (const byte of randomBytes(96)) {
      if (byte < 248 && secret.length < SECRET_LENGTH) secret += SECRET_ALPHABET[byte % 62];
    }
  }
  return secret;
}

export function hashSecret(secret: string, saltHex: string): string {
  return createHash('sha256').update(Buffer.from(saltHex, 'hex')).update(secret, 'utf8').digest('hex');
}

export function secretMatches(record: Pick<AuthKeyRecord, 'salt' | 'hash'>, secret: string): boolean {
  const expected = Buffer.from(record.hash, 'hex');
  const actual = Buffer.from(hashSecret(secret, record.salt), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Splits `uuid:secret`, or returns undefined when it is not one. */
export function parseApiKey(apiKey: string): { uuid: string; secret: string } | undefined {
  const colon = apiKey.indexOf(':');
  if (colon < 0) return undefined;
  const uuid = apiKey.slice(0, colon);
  const secret = apiKey.slice(colon + 1);
  if (!UUID_PATTERN.test(uuid) || secret.length !== SECRET_LENGTH) return undefined;
  return { uuid: uuid.toLowerCase(), secret };
}

/** A new key record and the one-time plain API key to give to its owner. */
export function makeAuthKey(
  namespace: string,
  options: { subject?: string; apiKey?: string; now?: number; masterKey?: Buffer } = {},
): { record: AuthKeyRecord; apiKey: string } {
  const parsed = options.apiKey === undefined ? undefined : parseApiKey(options.apiKey);
  if (options.apiKey !== undefined && !parsed) throw new Error('an API key is <uuid>:<64-character secret>');
  const uuid = parsed?.uuid ?? randomUUID();
  const secret = parsed?.secret ?? generateSecret();
  const salt = randomBytes(16).toString('hex');
  return {
    record: {
      uuid,
      namespace,
      subject: options.subject ?? namespace,
      salt,
      hash: hashSecret(secret, salt),
      created: options.now ?? Date.now(),
      ...(options.masterKey ? { sealed: sealApiKey(`${uuid}:${secret}`, uuid, options.masterKey) } : {}),
    },
    apiKey: `${uuid}:${secret}`,
  };
}
