// API keys for actions (`provide-api-key`, docs/reference/openwhisk-contract.md §5 and §6.2–6.3):
// OpenWhisk hands the invoking identity's key to an action as `api_key` on /run and `__OW_API_KEY`
// in /init's environment. Gust stores keys as salted hashes (api-keys.ts), which cannot give a key
// back, so each key record also holds a sealed copy: the key encrypted with AES-256-GCM under a
// master key that only the controllers and `npm run admin` know (GUST_KEY_ENCRYPTION_KEY), bound to
// the key's uuid. The store alone never reveals a usable key.
//
// Which key an activation gets: the invoking key's own copy; for activations nobody authenticated
// (alarm fires run as the trigger's owner) or keys issued before sealed copies existed, the
// namespace's first key that has one. No copy at all → the empty key: /run still carries
// `api_key: ""`, so a warm container shared by several callers never keeps an earlier caller's key
// in its environment (the runtime only overwrites the variables /run names).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EntityStore } from '../store/entity-store';
import type { Identity } from './authenticator';

const SEALED_PREFIX = 'aes-256-gcm:v1';

/**
 * The development master key: public, like OpenWhisk's guest key, so `npm start` and the tests work
 * with no setting. Production refuses to start with it or without a key of its own.
 */
export const DEVELOPMENT_MASTER_KEY = Buffer.from('gust development master key, public!').subarray(0, 32);

/**
 * The master key from GUST_KEY_ENCRYPTION_KEY (32 bytes as 64 hex digits or base64); the
 * development key when unset, unless in production.
 */
export function masterKeyOf(setting: string, production: boolean): Buffer {
  if (setting === '') {
    if (production) {
      throw new Error(
        'refusing to start in production (GUST_PRODUCTION=true) without GUST_KEY_ENCRYPTION_KEY: ' +
          'the master key that seals the API keys actions get (32 bytes, e.g. `openssl rand -hex 32`)',
      );
    }
    return DEVELOPMENT_MASTER_KEY;
  }
  const key = /^[0-9a-f]{64}$/i.test(setting) ? Buffer.from(setting, 'hex') : Buffer.from(setting, 'base64');
  if (key.length !== 32) throw new Error('GUST_KEY_ENCRYPTION_KEY must be 32 bytes: 64 hex digits or base64');
  if (production && key.equals(DEVELOPMENT_MASTER_KEY))
    throw new Error('refusing to start in production with the public development GUST_KEY_ENCRYPTION_KEY');
  return key;
}

/** `apiKey` encrypted under `masterKey`, authenticated together with its `uuid`. */
export function sealApiKey(apiKey: string, uuid: string, masterKey: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(uuid, 'utf8'));
  const sealed = Buffer.concat([cipher.update(apiKey, 'utf8'), cipher.final()]);
  const parts = [iv, cipher.getAuthTag(), sealed].map((part) => part.toString('base64'));
  return [SEALED_PREFIX, ...parts].join(':');
}

/** The key `sealApiKey` sealed; undefined under another master key, for another uuid, or altered. */
export function openSealedApiKey(sealed: string, uuid: string, masterKey: Buffer): string | undefined {
  if (!sealed.startsWith(`${SEALED_PREFIX}:`)) return undefined;
  const [iv, tag, data] = sealed
    .slice(SEALED_PREFIX.length + 1)
    .split(':')
    .map((part) => Buffer.from(part, 'base64'));
  if (!iv || !tag || !data) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey, iv);
    decipher.setAAD(Buffer.from(uuid, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

interface Cached {
  key: string;
  at: number;
}

/**
 * The keys activations get, opened from the store's sealed copies and cached briefly per identity,
 * so a warm invoke does not wait for them: `keyFor` answers synchronously from the cache, with a
 * promise only when it has to read the store. Deleted keys are served from the cache at most
 * `ttlMs` longer (they no longer authenticate anyway).
 */
export class ActionKeys {
  readonly #store: Pick<EntityStore, 'getAuthKey' | 'listAuthKeys'>;
  readonly #masterKey: Buffer;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cached = new Map<string, Cached>();
  readonly #onError: (error: unknown) => void;

  constructor(
    store: Pick<EntityStore, 'getAuthKey' | 'listAuthKeys'>,
    masterKey: Buffer,
    options: { ttlMs?: number; now?: () => number; onError?: (error: unknown) => void } = {},
  ) {
    this.#store = store;
    this.#masterKey = masterKey;
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** The key to hand an activation of `identity`, '' for none; never rejects (a failed read is none). */
  keyFor(identity: Identity): string | Promise<string> {
    const id = `${identity.namespace}\n${identity.uuid}`;
    const hit = this.#cached.get(id);
    if (hit && this.#now() - hit.at < this.#ttlMs) return hit.key;
    return this.#read(identity).then(
      (key) => {
        if (this.#cached.size >= 10_000) this.#cached.clear();
        this.#cached.set(id, { key, at: this.#now() });
        return key;
      },
      (error: unknown) => {
        this.#onError(error);
        return '';
      },
    );
  }

  async #read(identity: Identity): Promise<string> {
    const own = identity.uuid === '' ? undefined : await this.#store.getAuthKey(identity.uuid);
    const opened = own?.sealed && openSealedApiKey(own.sealed, own.uuid, this.#masterKey);
    if (opened) return opened;
    for (const record of await this.#store.listAuthKeys(identity.namespace)) {
      const key = record.sealed && openSealedApiKey(record.sealed, record.uuid, this.#masterKey);
      if (key) return key;
    }
    return '';
  }
}
