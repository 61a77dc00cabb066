// provide-api-key: the sealed copies of API keys (AES-256-GCM under the master key, bound to the
// key's uuid), the master key setting production requires, and which key an activation gets, on
// the real SQLite entity store.
import {
  ActionKeys,
  DEVELOPMENT_MASTER_KEY,
  masterKeyOf,
  openSealedApiKey,
  sealApiKey,
} from '../../api/action-keys';
import { GUEST_API_KEY, GUEST_UUID, makeAuthKey } from '../../api/api-keys';
import { prepareAuthKeys } from '../../api/auth-bootstrap';
import { openSqliteDatabase } from '../../store/sqlite/open-database';
import { SqliteEntityStore } from '../../store/sqlite/sqlite-entity-store';

const MASTER = Buffer.alloc(32, 7);

describe('sealed API keys', () => {
  test('open under the same master key and uuid only', () => {
    const { record, apiKey } = makeAuthKey('team', { masterKey: MASTER });
    expect(record.sealed).toMatch(/^aes-256-gcm:v1:/);
    expect(record.sealed).not.toContain(apiKey.split(':')[1]);
    expect(openSealedApiKey(record.sealed!, record.uuid, MASTER)).toBe(apiKey);
    expect(openSealedApiKey(record.sealed!, GUEST_UUID, MASTER)).toBeUndefined();
    expect(openSealedApiKey(record.sealed!, record.uuid, Buffer.alloc(32, 8))).toBeUndefined();
    const altered = record.sealed!.slice(0, -4) + (record.sealed!.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(openSealedApiKey(altered, record.uuid, MASTER)).toBeUndefined();
    expect(openSealedApiKey('plain text', record.uuid, MASTER)).toBeUndefined();
    // A fresh IV each time.
    expect(sealApiKey(apiKey, record.uuid, MASTER)).not.toBe(sealApiKey(apiKey, record.uuid, MASTER));
  });

  test('the master key setting: hex or base64, 32 bytes; production requires its own', () => {
    expect(masterKeyOf('', false)).toEqual(DEVELOPMENT_MASTER_KEY);
    expect(() => masterKeyOf('', true)).toThrow(/without GUST_KEY_ENCRYPTION_KEY/);
    expect(masterKeyOf('07'.repeat(32), true)).toEqual(MASTER);
    expect(masterKeyOf(MASTER.toString('base64'), true)).toEqual(MASTER);
    expect(() => masterKeyOf('abcd', false)).toThrow(/must be 32 bytes/);
    expect(() => masterKeyOf(DEVELOPMENT_MASTER_KEY.toString('hex'), true)).toThrow(/public development/);
  });
});

describe('the key an activation gets', () => {
  test("the invoking key's own copy, else the namespace's first sealed one, else ''", async () => {
    const db = openSqliteDatabase(':memory:');
    const store = new SqliteEntityStore(db);
    const sealed = makeAuthKey('team', { masterKey: MASTER, now: 1 });
    const unsealed = makeAuthKey('team', { now: 2 });
    const loner = makeAuthKey('loner');
    for (const key of [sealed, unsealed, loner]) await store.putAuthKey(key.record);
    const keys = new ActionKeys(store, MASTER);
    const identity = (key: typeof sealed, uuid = key.record.uuid) => ({
      namespace: key.record.namespace,
      subject: key.record.subject,
      uuid,
    });
    expect(await keys.keyFor(identity(sealed))).toBe(sealed.apiKey);
    // Keys issued before sealed copies, and alarm fires (no uuid), get the namespace's.
    expect(await keys.keyFor(identity(unsealed))).toBe(sealed.apiKey);
    expect(await keys.keyFor(identity(sealed, ''))).toBe(sealed.apiKey);
    expect(await keys.keyFor(identity(loner))).toBe('');
    // Cached: a second ask answers without waiting.
    expect(keys.keyFor(identity(sealed))).toBe(sealed.apiKey);
    // Under another master key nothing opens.
    expect(await new ActionKeys(store, Buffer.alloc(32, 9)).keyFor(identity(sealed))).toBe('');
    db.close();
  });

  test('the development guest key gets its sealed copy at start, also when it was stored without one', async () => {
    const db = openSqliteDatabase(':memory:');
    const store = new SqliteEntityStore(db);
    await store.putAuthKey(makeAuthKey('guest', { apiKey: GUEST_API_KEY }).record);
    await prepareAuthKeys(store, { production: false, masterKey: MASTER });
    const keys = new ActionKeys(store, MASTER);
    expect(await keys.keyFor({ namespace: 'guest', subject: 'guest', uuid: GUEST_UUID })).toBe(GUEST_API_KEY);
    db.close();
  });
});
