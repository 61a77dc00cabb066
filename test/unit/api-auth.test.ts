// Authentication: 401 with OpenWhisk's challenge, keys stored hashed, the verified-header cache
// (no store read on a hit), invalidation, 403 for another namespace, and the guest-key rules.
import { makeAuthKey, GUEST_API_KEY, GUEST_UUID } from '../../api/api-keys';
import { prepareAuthKeys } from '../../api/auth-bootstrap';
import { Authenticator } from '../../api/authenticator';
import { openSqliteDatabase } from '../../store/sqlite/open-database';
import { SqliteEntityStore } from '../../store/sqlite/sqlite-entity-store';
import type { TestApp } from './api-test-server';
import { basicAuth, startTestApp } from './api-test-server';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('HTTP authentication', () => {
  test.each([
    ['missing', undefined, 'The resource requires authentication, which was not supplied with the request'],
    ['not basic', 'Bearer x', 'The supplied authentication is invalid'],
    ['not a uuid', basicAuth(`nope:${'a'.repeat(64)}`), 'The supplied authentication is invalid'],
    ['short secret', basicAuth(`${GUEST_UUID}:short`), 'The supplied authentication is invalid'],
    ['wrong secret', basicAuth(`${GUEST_UUID}:${'b'.repeat(64)}`), 'The supplied authentication is invalid'],
  ])('%s credentials → 401 with the challenge', async (_case, authorization, message) => {
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    const call = { url: '/api/v1/namespaces', headers };
    if (authorization === undefined) Object.assign(call.headers, { authorization: '' });
    const r = await t.server.call(call);
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Basic realm="OpenWhisk secure realm"');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json()).toEqual({ error: message, code: r.headers['x-request-id'] });
  });

  test('another namespace is 403 with the resource in the message', async () => {
    const r = await t.server.call({ url: '/api/v1/namespaces/someone/actions/x' });
    expect(r.statusCode).toBe(403);
    expect(r.json<{ error: string }>().error).toBe(
      "The supplied authentication is not authorized to access 'someone/x'.",
    );
  });

  test('a created key works for its own namespace only', async () => {
    const { record, apiKey } = makeAuthKey('alice');
    await t.entities.putAuthKey(record);
    const headers = { authorization: basicAuth(apiKey) };
    expect((await t.server.call({ url: '/api/v1/namespaces', headers })).json()).toEqual(['alice']);
    expect((await t.server.call({ url: '/api/v1/namespaces/guest/actions', headers })).statusCode).toBe(403);
    expect((await t.server.call({ url: '/api/v1/namespaces/alice/actions', headers })).statusCode).toBe(200);
  });

  test('info endpoints need no credentials', async () => {
    const root = await t.server.call({ url: '/', headers: { authorization: '' } });
    expect(root.json()).toMatchObject({
      description: 'OpenWhisk',
      api_paths: ['/api/v1'],
      runtimes: { nodejs: expect.any(Array) },
    });
    expect((await t.server.call({ url: '/api/v1', headers: { authorization: '' } })).json()).toMatchObject({
      api_version: '1.0.0',
    });
  });
});

describe('Authenticator', () => {
  const db = openSqliteDatabase(':memory:');
  const store = new SqliteEntityStore(db);
  afterAll(() => db.close());

  test('keys are stored hashed with a salt, never in plain text', async () => {
    const { record, apiKey } = makeAuthKey('hashed');
    await store.putAuthKey(record);
    const stored = JSON.stringify(await store.getAuthKey(record.uuid));
    expect(stored).not.toContain(apiKey.split(':')[1]);
    expect(record.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(makeAuthKey('hashed', { apiKey }).record.hash).not.toBe(record.hash);
  });

  test('a verified header is served from memory: no store read, no hashing', async () => {
    const { record, apiKey } = makeAuthKey('cached');
    await store.putAuthKey(record);
    let reads = 0;
    const counting = { getAuthKey: (uuid: string) => ((reads += 1), store.getAuthKey(uuid)) };
    const auth = new Authenticator(counting);
    const header = basicAuth(apiKey);
    expect(await auth.authenticate(header)).toMatchObject({ namespace: 'cached' });
    for (let i = 0; i < 100; i++) expect(auth.authenticate(header)).toMatchObject({ namespace: 'cached' });
    expect(reads).toBe(1);
  });

  test('invalidate() drops a deleted key at once', async () => {
    const { record, apiKey } = makeAuthKey('deleted');
    await store.putAuthKey(record);
    const auth = new Authenticator(store);
    const header = basicAuth(apiKey);
    await auth.authenticate(header);
    await store.deleteAuthKey(record.uuid);
    auth.invalidate(record.uuid);
    await expect(Promise.resolve().then(() => auth.authenticate(header))).rejects.toMatchObject({
      statusCode: 401,
    });
  });

  /** A key used once (so cached), then deleted in the store behind the authenticator's back. */
  async function deletedAfterUse(namespace: string) {
    const { record, apiKey } = makeAuthKey(namespace);
    await store.putAuthKey(record);
    const clock = { now: 0 };
    const auth = new Authenticator(store, { revalidateAfterMs: 1_000, now: () => clock.now });
    const header = basicAuth(apiKey);
    await auth.authenticate(header);
    await store.deleteAuthKey(record.uuid);
    return { auth, header, clock };
  }

  test('a key deleted elsewhere stops working after revalidation', async () => {
    const { auth, header, clock } = await deletedAfterUse('revalidated');
    clock.now = 2_000;
    // Served once more while the background check runs, then refused.
    expect(auth.authenticate(header)).toMatchObject({ namespace: 'revalidated' });
    // The check is a store read (SQLite answers in the same turn): one turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    await expect(Promise.resolve().then(() => auth.authenticate(header))).rejects.toMatchObject({
      statusCode: 401,
    });
  });

  // Audit M1.
  test('a key deleted elsewhere is never served past twice the revalidation interval', async () => {
    const { auth, header, clock } = await deletedAfterUse('expired');
    clock.now = 60_000; // no request in between: the cached entry is too old to serve
    await expect(Promise.resolve().then(() => auth.authenticate(header))).rejects.toMatchObject({
      statusCode: 401,
    });
  });

  test('refused credentials cost one store read, not one per request, until the key is written (audit M1 d)', async () => {
    const { apiKey, record } = makeAuthKey('alice');
    let reads = 0;
    const counting = { getAuthKey: (uuid: string) => ((reads += 1), store.getAuthKey(uuid)) };
    const clock = { now: 0 };
    const auth = new Authenticator(counting, { refusedForMs: 10_000, now: () => clock.now });
    const header = (key: string) => `Basic ${Buffer.from(key).toString('base64')}`;
    const refused = (key: string) =>
      expect(Promise.resolve().then(() => auth.authenticate(header(key)))).rejects.toMatchObject({
        statusCode: 401,
      });
    // Not a key yet: retried ten times, read once.
    for (let i = 0; i < 10; i++) await refused(apiKey);
    expect(reads).toBe(1);
    // Written now (the change feed calls invalidate): it works at once.
    await store.putAuthKey(record);
    auth.invalidate(record.uuid);
    await expect(Promise.resolve(auth.authenticate(header(apiKey)))).resolves.toMatchObject({
      namespace: 'alice',
    });
    expect(reads).toBe(2);
    // Guessed secrets for a real uuid: one read for all of them.
    for (let i = 0; i < 10; i++) await refused(`${record.uuid}:${String(i).padStart(64, 'x')}`);
    expect(reads).toBe(3);
    // Remembered for refusedForMs only.
    clock.now += 10_001;
    await refused(`${record.uuid}:${'y'.repeat(64)}`);
    await refused(`${record.uuid}:${'z'.repeat(64)}`);
    expect(reads).toBe(4);
  });

  test('only canonical base64 is accepted, so one key cannot fill the cache with variants', async () => {
    const { record, apiKey } = makeAuthKey('canonical');
    await store.putAuthKey(record);
    const auth = new Authenticator(store);
    const encoded = Buffer.from(apiKey).toString('base64');
    expect(await auth.authenticate(`Basic ${encoded}`)).toMatchObject({ namespace: 'canonical' });
    for (const variant of [`${encoded}!!!!`, `${encoded.slice(0, 8)}.${encoded.slice(8)}`]) {
      expect(() => auth.authenticate(`Basic ${variant}`)).toThrow(
        expect.objectContaining({ statusCode: 401 }),
      );
    }
    expect(await auth.authenticate(`basic   ${encoded}`)).toMatchObject({ namespace: 'canonical' });
    expect(auth.stats().misses).toBe(1); // one entry for the key, whatever the header's spelling
  });

  test('while the store does not answer, a cached identity is served on', async () => {
    const { record, apiKey } = makeAuthKey('outage');
    await store.putAuthKey(record);
    let now = 0;
    let down = false;
    const flaky = {
      getAuthKey: (uuid: string) => (down ? Promise.reject(new Error('store down')) : store.getAuthKey(uuid)),
    };
    const auth = new Authenticator(flaky, { revalidateAfterMs: 1_000, now: () => now });
    const header = basicAuth(apiKey);
    await auth.authenticate(header);
    down = true;
    now = 60_000;
    expect(await auth.authenticate(header)).toMatchObject({ namespace: 'outage' });
    expect(auth.authenticate(header)).toMatchObject({ namespace: 'outage' }); // from the cache again
  });
});

describe('guest key bootstrap', () => {
  test('the embedded default creates namespace guest with the well-known key', async () => {
    const db = openSqliteDatabase(':memory:');
    const store = new SqliteEntityStore(db);
    await prepareAuthKeys(store, { production: false });
    await prepareAuthKeys(store, { production: false });
    expect(await store.listAuthKeys('guest')).toHaveLength(1);
    const auth = new Authenticator(store);
    expect(await auth.authenticate(basicAuth(GUEST_API_KEY))).toMatchObject({
      namespace: 'guest',
      subject: 'guest',
    });
    db.close();
  });

  test('production refuses to start while the guest key exists', async () => {
    const db = openSqliteDatabase(':memory:');
    const store = new SqliteEntityStore(db);
    await prepareAuthKeys(store, { production: true });
    expect(await store.getAuthKey(GUEST_UUID)).toBeUndefined();
    await store.putAuthKey(makeAuthKey('guest', { apiKey: GUEST_API_KEY }).record);
    await expect(prepareAuthKeys(store, { production: true })).rejects.toThrow(
      'refusing to start in production',
    );
    db.close();
  });
});
