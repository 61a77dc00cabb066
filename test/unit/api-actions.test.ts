// Action entity routes over a real listener: create, 409, update with merge and version bump,
// get with and without code, list (skip/limit/count), delete, packages' actions.
import type { TestApp } from './api-test-server';
import { startTestApp } from './api-test-server';
import { useFakeClock } from './fake-time';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const url = (name: string, query = ''): string => `/api/v1/namespaces/_/actions/${name}${query}`;
const nodeAction = (code = 'function main(p) { return p }') => ({ exec: { kind: 'nodejs:default', code } });

describe('actions', () => {
  test('create resolves the kind, adds annotations and default limits', async () => {
    const r = await t.server.call({
      method: 'PUT',
      url: url('create-me'),
      payload: {
        ...nodeAction(),
        parameters: [{ key: 'a', value: 1 }],
        annotations: [{ key: 'x', value: 'y' }],
      },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      namespace: 'guest',
      name: 'create-me',
      version: '0.0.1',
      publish: false,
      exec: { kind: 'nodejs:20', binary: false },
      parameters: [{ key: 'a', value: 1 }],
      limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
      annotations: [
        { key: 'x', value: 'y' },
        { key: 'exec', value: 'nodejs:20' },
        { key: 'provide-api-key', value: false },
      ],
    });
  });

  test('PUT on an existing action without overwrite is 409', async () => {
    await t.server.call({ method: 'PUT', url: url('dup'), payload: nodeAction() });
    const r = await t.server.call({ method: 'PUT', url: url('dup'), payload: nodeAction() });
    expect(r.statusCode).toBe(409);
    expect(r.json()).toEqual({ error: 'resource already exists', code: r.headers['x-request-id'] });
  });

  test('update merges as OpenWhisk: exec kept, limits per field, annotations merged, version bumped', async () => {
    await t.server.call({
      method: 'PUT',
      url: url('upd'),
      payload: { ...nodeAction('A'), limits: { memory: 128 }, annotations: [{ key: 'k1', value: 1 }] },
    });
    const r = await t.server.call({
      method: 'PUT',
      url: url('upd', '?overwrite=true'),
      payload: {
        limits: { timeout: 1000 },
        annotations: [{ key: 'k2', value: 2 }],
        parameters: [{ key: 'p', value: 3 }],
      },
    });
    expect(r.statusCode).toBe(200);
    const action = r.json<Record<string, unknown>>();
    expect(action).toMatchObject({
      version: '0.0.2',
      exec: { kind: 'nodejs:20', code: 'A' },
      limits: { memory: 128, timeout: 1000 },
      parameters: [{ key: 'p', value: 3 }],
    });
    expect(action.annotations).toEqual(
      expect.arrayContaining([
        { key: 'k1', value: 1 },
        { key: 'k2', value: 2 },
      ]),
    );
    const again = await t.server.call({ method: 'PUT', url: url('upd', '?overwrite=true'), payload: {} });
    expect(again.json()).toMatchObject({ version: '0.0.3' });
  });

  test('get with and without code', async () => {
    await t.server.call({ method: 'PUT', url: url('coded'), payload: nodeAction('CODE') });
    expect((await t.server.call({ url: url('coded') })).json()).toMatchObject({ exec: { code: 'CODE' } });
    const without = (await t.server.call({ url: url('coded', '?code=false') })).json<{ exec: object }>();
    expect(without.exec).not.toHaveProperty('code');
  });

  test('zip code is detected as binary', async () => {
    const zip = Buffer.from('PK\u0003\u0004 pretend zip').toString('base64');
    const r = await t.server.call({ method: 'PUT', url: url('zipped'), payload: nodeAction(zip) });
    expect(r.json()).toMatchObject({ exec: { binary: true } });
  });

  test('blackbox needs an image', async () => {
    const ok = await t.server.call({
      method: 'PUT',
      url: url('bb'),
      payload: { exec: { kind: 'blackbox', image: 'openwhisk/dockerskeleton' } },
    });
    expect(ok.json()).toMatchObject({ exec: { kind: 'blackbox', image: 'openwhisk/dockerskeleton' } });
    const bad = await t.server.call({
      method: 'PUT',
      url: url('bb2'),
      payload: { exec: { kind: 'blackbox' } },
    });
    expect(bad.statusCode).toBe(400);
  });

  test('list: summaries, newest first, skip/limit/count', async () => {
    const clock = useFakeClock(); // one millisecond between the three: newest first is l3
    try {
      for (const name of ['l1', 'l2', 'l3']) {
        await t.server.call({ method: 'PUT', url: url(name), payload: nodeAction() });
        clock.tick();
      }
    } finally {
      jest.useRealTimers();
    }
    const all = (await t.server.call({ url: '/api/v1/namespaces/_/actions?limit=0' })).json<
      Record<string, unknown>[]
    >();
    expect(all[0]).toEqual({
      namespace: 'guest',
      name: 'l3',
      version: '0.0.1',
      publish: false,
      annotations: expect.any(Array),
      limits: expect.any(Object),
      exec: { binary: false },
      updated: expect.any(Number),
    });
    const page = (await t.server.call({ url: '/api/v1/namespaces/_/actions?skip=1&limit=1' })).json<
      { name: string }[]
    >();
    expect(page.map((a) => a.name)).toEqual(['l2']);
    const count = await t.server.call({ url: '/api/v1/namespaces/guest/actions?count=true' });
    expect(count.json()).toEqual({ actions: all.length });
  });

  test('delete returns the deleted action, then 404', async () => {
    await t.server.call({ method: 'PUT', url: url('gone'), payload: nodeAction('G') });
    const r = await t.server.call({ method: 'DELETE', url: url('gone') });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ name: 'gone', exec: { code: 'G' } });
    expect((await t.server.call({ method: 'DELETE', url: url('gone') })).statusCode).toBe(404);
    expect((await t.server.call({ url: url('gone') })).statusCode).toBe(404);
  });

  test('actions inside a package', async () => {
    expect(
      (await t.server.call({ method: 'PUT', url: url('nopkg/a'), payload: nodeAction() })).statusCode,
    ).toBe(404);
    await t.server.call({ method: 'PUT', url: '/api/v1/namespaces/_/packages/tools', payload: {} });
    const created = await t.server.call({ method: 'PUT', url: url('tools/hammer'), payload: nodeAction() });
    expect(created.json()).toMatchObject({ namespace: 'guest/tools', name: 'hammer' });
    expect((await t.server.call({ url: url('tools/hammer') })).statusCode).toBe(200);
    const listed = (await t.server.call({ url: url('tools/') })).json<{ name: string }[]>();
    expect(listed.map((a) => a.name)).toEqual(['hammer']);
    const pkg = await t.server.call({ url: '/api/v1/namespaces/_/packages/tools' });
    expect(pkg.json()).toMatchObject({
      name: 'tools',
      binding: {},
      actions: [{ name: 'hammer', version: '0.0.1' }],
    });
    const notEmpty = await t.server.call({ method: 'DELETE', url: '/api/v1/namespaces/_/packages/tools' });
    expect(notEmpty.statusCode).toBe(409);
    expect(notEmpty.json<{ error: string }>().error).toBe(
      'Package not empty (contains 1 entity). Set force param or delete package contents.',
    );
    const forced = await t.server.call({
      method: 'DELETE',
      url: '/api/v1/namespaces/_/packages/tools?force=true',
    });
    expect(forced.statusCode).toBe(200);
    expect((await t.server.call({ url: url('tools/hammer') })).statusCode).toBe(404);
  });

  test('package name default is reserved', async () => {
    const r = await t.server.call({
      method: 'PUT',
      url: '/api/v1/namespaces/_/packages/default',
      payload: {},
    });
    expect(r.statusCode).toBe(400);
    expect(r.json<{ error: string }>().error).toBe("Package name 'default' is reserved.");
  });

  test('namespaces, limits, triggers and rules listings', async () => {
    expect((await t.server.call({ url: '/api/v1/namespaces' })).json()).toEqual(['guest']);
    expect((await t.server.call({ url: '/api/v1/namespaces/_/triggers' })).json()).toEqual([]);
    expect((await t.server.call({ url: '/api/v1/namespaces/_/rules?count=true' })).json()).toEqual({
      rules: 0,
    });
    expect((await t.server.call({ url: '/api/v1/namespaces/_/limits' })).json()).toMatchObject({
      concurrentInvocations: t.config.controller.concurrentInvocations,
    });
  });
});
