// The invoke route: status codes by outcome, result=true, arrays, 202 past the wait, parameter
// precedence, final parameters, payload limit, throttles, overload, and records reaching the writer.
import type { Activation } from '../../common/types';
import type { TestApp, ScriptedInvoker } from './api-test-server';
import { startTestApp, until } from './api-test-server';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ blockingWaitMs: 300, invocationsPerMinute: 10_000, concurrentInvocations: 1_000 });
  for (const name of ['echo', 'app-error', 'dev-error', 'whisk-error', 'array', 'held', 'crash']) {
    await t.server.call({
      method: 'PUT',
      url: `/api/v1/namespaces/_/actions/${name}`,
      payload: { exec: { kind: 'nodejs:20', code: 'x' }, parameters: [{ key: 'd', value: 'action' }] },
    });
  }
});
afterAll(() => t.close());
const scripted = (app: TestApp) => app.invoker as ScriptedInvoker;

const invoke = (name: string, query = '', payload: unknown = {}) =>
  t.server.call({ method: 'POST', url: `/api/v1/namespaces/_/actions/${name}${query}`, payload });

describe('invoke', () => {
  test('non-blocking: 202 with a 32-hex activation id and the header', async () => {
    const r = await invoke('echo');
    expect(r.statusCode).toBe(202);
    const { activationId } = r.json<{ activationId: string }>();
    expect(activationId).toMatch(/^[0-9a-f]{32}$/);
    expect(r.headers['x-openwhisk-activation-id']).toBe(activationId);
  });

  test.each([
    ['echo', 200, 'success'],
    ['app-error', 502, 'application error'],
    ['dev-error', 502, 'action developer error'],
    ['whisk-error', 500, 'whisk internal error'],
  ])('blocking %s → %d with the API record', async (name, status, statusText) => {
    const r = await invoke(name, '?blocking=true');
    expect(r.statusCode).toBe(status);
    const record = r.json<Record<string, unknown>>();
    expect(record).toMatchObject({ name, namespace: 'guest', response: { status: statusText } });
    expect(record).not.toHaveProperty('statusCode');
    expect(record.response).not.toHaveProperty('statusCode');
    expect(record.annotations).toEqual(
      expect.arrayContaining([
        { key: 'path', value: `guest/${name}` },
        { key: 'kind', value: 'nodejs:20' },
        expect.objectContaining({ key: 'limits' }),
      ]),
    );
  });

  test('result=true answers the bare result, also for errors', async () => {
    const ok = await invoke('echo', '?blocking=true&result=true', { x: 1 });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ params: { d: 'action', x: 1 } });
    const failed = await invoke('app-error', '?blocking=true&result=true');
    expect(failed.statusCode).toBe(502);
    expect(failed.json()).toEqual({ error: 'app' });
  });

  test('an array result is answered as the array itself', async () => {
    const r = await invoke('array', '?blocking=true');
    expect(r.json()).toEqual([1, 2, 3]);
  });

  test('past the blocking wait: 202, and the activation still completes and is recorded', async () => {
    const r = await invoke('held', '?blocking=true');
    expect(r.statusCode).toBe(202);
    const { activationId } = r.json<{ activationId: string }>();
    // The activation completes after the answer, and is recorded (its record goes to the writer
    // in the same turn as the run settles).
    scripted(t).release();
    await until(() => scripted(t).running === 0);
    await t.writer.flush();
    const record = await t.server.call({ url: `/api/v1/namespaces/_/activations/${activationId}` });
    expect(record.json()).toMatchObject({ activationId, response: { result: { held: true } } });
  });

  test('timeout query parameter: shorter wait, and bounds', async () => {
    expect((await invoke('held', '?blocking=true&timeout=50')).statusCode).toBe(202);
    scripted(t).release();
    const bad = await invoke('echo', '?blocking=true&timeout=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: string }>().error).toBe('Timeout must be number of milliseconds up to 300.');
  });

  test('invoke parameters override action parameters, which override package parameters', async () => {
    await t.server.call({
      method: 'PUT',
      url: '/api/v1/namespaces/_/packages/p',
      payload: {
        parameters: [
          { key: 'd', value: 'package' },
          { key: 'e', value: 'package' },
        ],
      },
    });
    await t.server.call({
      method: 'PUT',
      url: '/api/v1/namespaces/_/actions/p/echo',
      payload: {
        exec: { kind: 'nodejs:20', code: 'x' },
        parameters: [
          { key: 'd', value: 'action' },
          { key: 'f', value: 'action' },
        ],
      },
    });
    const r = await invoke('p/echo', '?blocking=true&result=true', { f: 'invoke' });
    expect(r.json()).toEqual({ params: { d: 'action', e: 'package', f: 'invoke' } });
  });

  test('a binding passes its parameters over the bound package', async () => {
    const bind = await t.server.call({
      method: 'PUT',
      url: '/api/v1/namespaces/_/packages/bound',
      payload: { binding: { namespace: '_', name: 'p' }, parameters: [{ key: 'e', value: 'binding' }] },
    });
    expect(bind.json()).toMatchObject({ binding: { namespace: 'guest', name: 'p' } });
    const r = await invoke('bound/echo', '?blocking=true&result=true');
    expect(r.json()).toEqual({ params: { d: 'action', e: 'binding', f: 'action' } });
  });

  test('final parameters cannot be overridden', async () => {
    await t.server.call({
      method: 'PUT',
      url: '/api/v1/namespaces/_/actions/final',
      payload: {
        exec: { kind: 'nodejs:20', code: 'x' },
        parameters: [{ key: 'locked', value: 1 }],
        annotations: [{ key: 'final', value: true }],
      },
    });
    const r = await invoke('final', '?blocking=true', { locked: 2 });
    expect(r.statusCode).toBe(400);
    expect(r.json<{ error: string }>().error).toBe(
      'Request defines parameters that are not allowed (e.g., reserved properties).',
    );
  });

  test('payload over 1 MB is 413 with OpenWhisk text', async () => {
    const r = await invoke('echo', '', { big: 'x'.repeat(1024 * 1024) });
    expect(r.statusCode).toBe(413);
    expect(r.json<{ error: string }>().error).toMatch(/^Request larger than allowed: \d+ > 1048576 bytes\.$/);
  });

  test('missing action is 404', async () => {
    const r = await invoke('nope', '?blocking=true');
    expect(r.statusCode).toBe(404);
    expect(r.json<{ error: string }>().error).toBe('The requested resource does not exist.');
  });

  test('an invoker that fails inside the platform still gives a whisk-error record', async () => {
    const crashed = await invoke('crash', '?blocking=true');
    expect(crashed.statusCode).toBe(500);
    expect(crashed.json()).toMatchObject({ response: { status: 'whisk internal error', success: false } });
  });

  test('every record reaches the store with its logs', async () => {
    const r = await invoke('echo', '?blocking=true');
    const { activationId } = r.json<Activation>();
    expect(r.json<Activation>().logs).toEqual([]);
    await t.writer.flush();
    const logs = await t.server.call({ url: `/api/v1/namespaces/_/activations/${activationId}/logs` });
    expect(logs.json()).toEqual({ logs: ['2024-01-01T00:00:00.000000000Z stdout: ran echo'] });
  });
});

describe('throttles and overload', () => {
  test('per-minute rate: 429 with OpenWhisk text, counted before the lookup', async () => {
    const limited = await startTestApp({ invocationsPerMinute: 2, concurrentInvocations: 100 });
    try {
      const call = () =>
        limited.server.call({ method: 'POST', url: '/api/v1/namespaces/_/actions/missing', payload: {} });
      expect((await call()).statusCode).toBe(404);
      expect((await call()).statusCode).toBe(404);
      const r = await call();
      expect(r.statusCode).toBe(429);
      expect(r.json<{ error: string }>().error).toBe(
        'Too many requests in the last minute (count: 3, allowed: 2).',
      );
    } finally {
      await limited.close();
    }
  });

  test('concurrency: 429 while the namespace has too many in flight', async () => {
    const limited = await startTestApp({
      invocationsPerMinute: 100,
      concurrentInvocations: 1,
      blockingWaitMs: 1000,
    });
    try {
      await limited.server.call({
        method: 'PUT',
        url: '/api/v1/namespaces/_/actions/held',
        payload: { exec: { kind: 'nodejs:20', code: 'x' } },
      });
      const first = limited.server.call({
        method: 'POST',
        url: '/api/v1/namespaces/_/actions/held?blocking=true',
        payload: {},
      });
      await until(() => scripted(limited).running === 1); // the first is in flight
      const second = await limited.server.call({
        method: 'POST',
        url: '/api/v1/namespaces/_/actions/held',
        payload: {},
      });
      expect(second.statusCode).toBe(429);
      expect(second.json<{ error: string }>().error).toBe(
        'Too many concurrent requests in flight (count: 1, allowed: 1).',
      );
      scripted(limited).release();
      expect((await first).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  test('a saturated activation writer makes invokes answer 503 instead of dropping records', async () => {
    const app = await startTestApp({ invocationsPerMinute: 100 }, { writerHighWaterMark: 1 });
    try {
      await app.server.call({
        method: 'PUT',
        url: '/api/v1/namespaces/_/actions/echo',
        payload: { exec: { kind: 'nodejs:20', code: 'x' } },
      });
      // Stop the store from draining: its writes fail until restored.
      const putBatch = app.activations.putBatch.bind(app.activations);
      app.activations.putBatch = async () => {
        throw new Error('down');
      };
      await app.server.call({
        method: 'POST',
        url: '/api/v1/namespaces/_/actions/echo?blocking=true',
        payload: {},
      });
      await until(() => app.writer.saturated); // its record is in the writer, unwritten
      const r = await app.server.call({
        method: 'POST',
        url: '/api/v1/namespaces/_/actions/echo',
        payload: {},
      });
      expect(r.statusCode).toBe(503);
      expect(r.json<{ error: string }>().error).toBe('System is overloaded, try again later.');
      app.activations.putBatch = putBatch;
      await app.writer.flush();
      expect(app.writer.stats()).toMatchObject({ accepted: 1, written: 1 });
    } finally {
      await app.close();
    }
  });
});
