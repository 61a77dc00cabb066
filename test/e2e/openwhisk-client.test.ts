// End to end through the official `openwhisk` npm client only, against a whole Gust (harness.ts):
// entity CRUD, invokes (blocking, non-blocking, result), activations, default parameters, zip
// actions, and every error status the client can meet.
import AdmZip from 'adm-zip';
import type openwhisk from 'openwhisk';
import { makeAuthKey } from '../../api/api-keys';
import { SERVICE_LABEL, serviceName } from '../../backends/knative/service-spec';
import type { GustUnderTest } from './harness';
import { startGust } from './harness';
import { eventually, failure, type OwError } from './waiting';

jest.setTimeout(180_000);

let gust: GustUnderTest;
let ow: ReturnType<GustUnderTest['client']>;

beforeAll(async () => {
  gust = await startGust({
    controller: {
      concurrentInvocations: 4,
      invocationsPerMinute: 10_000,
      blockingWaitMs: 60_000,
      provisionTimeoutMs: 15_000,
    },
  });
  ow = gust.client();
});
afterAll(() => gust?.stop());

const HELLO =
  'function main(params) { console.log("hello " + params.name); return { payload: "Hello " + params.name }; }';

describe('the openwhisk client against Gust', () => {
  test('create, get, update, list, delete', async () => {
    const created = await ow.actions.create({ name: 'crud', action: HELLO, params: { name: 'default' } });
    expect(created).toMatchObject({
      name: 'crud',
      namespace: 'guest',
      version: '0.0.1',
      exec: { kind: 'nodejs:20' },
    });
    const got = await ow.actions.get({ name: 'crud' });
    expect(got.exec).toMatchObject({ code: HELLO });
    const updated = await ow.actions.update({ name: 'crud', limits: { memory: 128 } });
    expect(updated).toMatchObject({ version: '0.0.2', limits: { memory: 128 } });
    const list = await ow.actions.list();
    expect(list.map((a) => a.name)).toContain('crud');
    const ns = await ow.namespaces.list();
    expect(ns).toEqual(['guest']);
    const everything = await (ow.namespaces.get as () => Promise<unknown>)();
    expect(everything).toMatchObject({ packages: [], triggers: [], rules: [] });
    const deleted = await ow.actions.delete({ name: 'crud' });
    expect(deleted).toMatchObject({ name: 'crud' });
    expect((await failure(ow.actions.get({ name: 'crud' }))).statusCode).toBe(404);
  });

  test('blocking invoke with default parameters, result, and the activation afterwards', async () => {
    await ow.actions.create({ name: 'hello', action: HELLO, params: { name: 'default' } });
    const record = await ow.actions.invoke({ name: 'hello', blocking: true });
    expect(record).toMatchObject({
      name: 'hello',
      response: { success: true, result: { payload: 'Hello default' } },
    });
    expect(record.activationId).toMatch(/^[0-9a-f]{32}$/);
    const result = await ow.actions.invoke({
      name: 'hello',
      blocking: true,
      result: true,
      params: { name: 'Bob' },
    });
    expect(result).toEqual({ payload: 'Hello Bob' });

    const fetched = await eventually(() => ow.activations.get({ name: record.activationId }));
    expect(fetched).toMatchObject({ activationId: record.activationId, response: { status: 'success' } });
    expect(await ow.activations.result({ name: record.activationId })).toMatchObject({
      success: true,
      result: { payload: 'Hello default' },
    });
    const logs = await eventually(
      async () => (await ow.activations.logs({ name: record.activationId })) as { logs: string[] },
      (l) => l.logs.length > 0,
    );
    expect(logs.logs.join('\n')).toContain('hello default');
    const listed = await eventually(
      () => ow.activations.list({ name: 'hello' }),
      (l: unknown[]) => l.length >= 2,
    );
    expect(listed[0]).toMatchObject({ name: 'hello', namespace: 'guest' });
    expect(await ow.activations.list({ count: true })).toMatchObject({ activations: expect.any(Number) });
  });

  test('non-blocking invoke answers an activation id at once', async () => {
    const accepted = await ow.actions.invoke({ name: 'hello', params: { name: 'later' } });
    expect(accepted).toEqual({ activationId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const record = await eventually(() => ow.activations.get({ name: accepted.activationId }));
    expect(record).toMatchObject({ response: { result: { payload: 'Hello later' } } });
  });

  test('an update that keeps the version runs the new code, and the record keeps the version (audit M10)', async () => {
    const v1 = 'function main() { return { code: "one" }; }';
    const v2 = 'function main() { return { code: "two" }; }';
    await ow.actions.create({ name: 'pinned', action: v1, version: '1.0.0' });
    expect(await ow.actions.invoke({ name: 'pinned', blocking: true, result: true })).toEqual({
      code: 'one',
    });
    const updated = await ow.actions.update({ name: 'pinned', action: v2, version: '1.0.0' });
    expect(updated).toMatchObject({ version: '1.0.0' });
    // The warm container of the first code must not answer: it is another revision.
    const record = await ow.actions.invoke({ name: 'pinned', blocking: true });
    expect(record).toMatchObject({ version: '1.0.0', response: { result: { code: 'two' } } });
  });

  test('limits.concurrency 3: three activations overlap in one container', async () => {
    // Each activation waits (up to 20 s) until three have arrived in its container: only runs
    // that share one container and overlap there can all see three.
    await ow.actions.create({
      name: 'together',
      action: `async function main() {
        globalThis.arrived = (globalThis.arrived || 0) + 1;
        for (let i = 0; i < 200 && globalThis.arrived < 3; i++) await new Promise((r) => setTimeout(r, 100));
        return { arrived: globalThis.arrived };
      }`,
      limits: { concurrency: 3, timeout: 30_000 },
    });
    const results = await Promise.all(
      [1, 2, 3].map(() => ow.actions.invoke({ name: 'together', blocking: true, result: true })),
    );
    expect(results).toEqual([{ arrived: 3 }, { arrived: 3 }, { arrived: 3 }]);
  });

  test('a zip action with package.json runs', async () => {
    const zip = new AdmZip();
    zip.addFile('package.json', Buffer.from(JSON.stringify({ name: 'zipped', main: 'index.js' })));
    zip.addFile('index.js', Buffer.from('exports.main = (p) => ({ zipped: true, got: p.x });'));
    await ow.actions.create({ name: 'zipped', action: zip.toBuffer(), kind: 'nodejs:20' });
    const getWithoutCode = ow.actions.get.bind(ow.actions) as (o: {
      name: string;
      code: boolean;
    }) => Promise<unknown>;
    expect(await getWithoutCode({ name: 'zipped', code: false })).toMatchObject({ exec: { binary: true } });
    expect(
      await ow.actions.invoke({ name: 'zipped', blocking: true, result: true, params: { x: 7 } }),
    ).toEqual({
      zipped: true,
      got: 7,
    });
  });

  test('a blackbox action runs its own image (built locally, no pull)', async () => {
    // The client's typings insist on `code`; OpenWhisk's API does not for a blackbox image.
    const action = {
      exec: { kind: 'blackbox', image: 'gust/blackbox-echo:test' },
    } as unknown as openwhisk.Action;
    await ow.actions.create({ name: 'echo', action });
    const result = await ow.actions.invoke({ name: 'echo', blocking: true, result: true, params: { a: 1 } });
    expect(result).toMatchObject({ echo: { a: 1 }, runtime: 'blackbox-echo' });
  });

  test('an action in a package gets package parameters under its own', async () => {
    await ow.packages.create({
      name: 'tools',
      package: {
        parameters: [
          { key: 'name', value: 'package' },
          { key: 'p', value: 1 },
        ],
      },
    } as Parameters<typeof ow.packages.create>[0]);
    await ow.actions.create({
      name: 'tools/echo',
      action: 'function main(p) { return p; }',
      params: { a: 2 },
    });
    expect(
      await ow.actions.invoke({ name: 'tools/echo', blocking: true, result: true, params: { b: 3 } }),
    ).toEqual({
      name: 'package',
      p: 1,
      a: 2,
      b: 3,
    });
  });

  test('400: unknown kind', async () => {
    const error = await failure(ow.actions.create({ name: 'bad', action: 'x', kind: 'cobol:85' }));
    expect(error.statusCode).toBe(400);
    expect(error.error?.error).toContain("The specified runtime 'cobol:85' is not supported");
  });

  test('401: unknown key', async () => {
    const stranger = gust.client({ apiKey: makeAuthKey('nobody').apiKey });
    const error = await failure(stranger.actions.list());
    expect(error.statusCode).toBe(401);
    expect(error.error?.error).toBe('The supplied authentication is invalid');
  });

  test('403: another namespace', async () => {
    const error = await failure(ow.actions.get({ name: '/someone/else' }));
    expect(error.statusCode).toBe(403);
  });

  test('404: missing action and activation', async () => {
    expect((await failure(ow.actions.invoke({ name: 'missing', blocking: true }))).statusCode).toBe(404);
    expect((await failure(ow.activations.get({ name: 'f'.repeat(32) }))).statusCode).toBe(404);
  });

  test('409: create over an existing action', async () => {
    const error = await failure(ow.actions.create({ name: 'hello', action: HELLO }));
    expect(error.statusCode).toBe(409);
    expect(error.error?.error).toBe('resource already exists');
  });

  test('413: invoke payload over 1 MB', async () => {
    const error = await failure(
      ow.actions.invoke({ name: 'hello', params: { big: 'x'.repeat(1024 * 1024) } }),
    );
    expect(error.statusCode).toBe(413);
    expect(error.error?.error).toMatch(/^Request larger than allowed: \d+ > 1048576 bytes\.$/);
  });

  test('502: the action fails; the client surfaces the error', async () => {
    await ow.actions.create({ name: 'fails', action: 'function main() { return { error: "nope" }; }' });
    const error = await failure(ow.actions.invoke({ name: 'fails', blocking: true }));
    expect(error.statusCode).toBe(502);
    expect(error.message).toContain('nope');
    await ow.actions.create({ name: 'throws', action: 'function main() { throw new Error("kaput"); }' });
    expect((await failure(ow.actions.invoke({ name: 'throws', blocking: true }))).statusCode).toBe(502);
  });

  test('500: the platform cannot run the action', async () => {
    // A plain-object `action` is sent verbatim as the body (client lib/actions.js).
    const body = { exec: { kind: 'blackbox', image: 'gust/does-not-exist:never' } };
    await ow.actions.create({ name: 'noimage', action: body as unknown as string });
    const error = await failure(ow.actions.invoke({ name: 'noimage', blocking: true }));
    expect([500, 502]).toContain(error.statusCode);
  });

  test('502: an action over its time limit, with OpenWhisk’s message', async () => {
    await ow.actions.create({
      name: 'overtime',
      action: 'function main() { return new Promise((r) => setTimeout(() => r({ late: true }), 5000)); }',
      limits: { timeout: 1000 },
    });
    const error = await failure(ow.actions.invoke({ name: 'overtime', blocking: true }));
    expect(error.statusCode).toBe(502);
    expect(error.message).toContain('The action exceeded its time limits of 1000 milliseconds.');
  });

  test('502: an action over its memory limit, with OpenWhisk’s message', async () => {
    await ow.actions.create({
      name: 'hoarder',
      action: 'function main() { const h = []; for (;;) h.push(Buffer.alloc(8 * 1024 * 1024, 1)); }',
      limits: { memory: 128 },
    });
    const error = await failure(ow.actions.invoke({ name: 'hoarder', blocking: true }));
    expect(error.statusCode).toBe(502);
    expect(error.message).toContain('The action exhausted its memory and was aborted.');
  });

  test('429: too many concurrent invokes', async () => {
    await ow.actions.create({
      name: 'sleepy',
      action: 'function main() { return new Promise((r) => setTimeout(() => r({ ok: true }), 1500)); }',
    });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        ow.actions.invoke({ name: 'sleepy', blocking: true }).then(
          () => 200,
          (e: OwError) => e.statusCode,
        ),
      ),
    );
    expect(outcomes).toContain(429);
    expect(outcomes).toContain(200);
  });

  // On the knative backend, an action's Service (and its pods) live as long as the action.
  const onKnative = process.env.GUST_E2E_BACKEND === 'knative' ? test : test.skip;
  onKnative('knative: deleting an action deletes its Knative Service and pods', async () => {
    const cluster = gust.knative!;
    await ow.actions.create({ name: 'gone', action: HELLO });
    await ow.actions.invoke({ name: 'gone', blocking: true, params: { name: 'x' } });
    const service = serviceName('guest', 'gone');
    const ofService = async () =>
      (await cluster.pods()).filter((p) => p.metadata?.labels?.[SERVICE_LABEL] === service);
    expect((await cluster.services()).map((s) => s.metadata.name)).toContain(service);
    expect((await ofService()).length).toBeGreaterThan(0);
    await ow.actions.delete({ name: 'gone' });
    await eventually(
      async () => ({
        services: (await cluster.services()).filter((s) => s.metadata.name === service).length,
        pods: (await ofService()).length,
      }),
      (left) => left.services === 0 && left.pods === 0,
      60_000,
    );
  });
});
