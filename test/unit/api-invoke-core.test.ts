// The invoke route over the real invoke core (ActivationStarter → ContainerInvoker → Router), with
// only the container's runtime and the control plane replaced by doubles: a full per-action queue
// answers 429 through the route, and nothing is recorded for a refused invoke.
import { ContainerInvoker } from '../../api/invoke/container-invoker';
import { Router } from '../../api/invoke/router';
import type { ControlPlane } from '../../common/contracts';
import { SILENT_LOGGER } from '../../common/logger';
import { actionRefOf } from '../../common/names';
import type { Action, ActionRef, Activation } from '../../common/types';
import type { RuntimeCallResult } from '../../runtimes/runtime-client';
import type { TestApp } from './api-test-server';
import { startTestApp } from './api-test-server';
import { testLease } from './fixtures';

const MAX_QUEUE = 3;
let t: TestApp;
let router: Router;
const asked: number[] = [];
const runs: string[] = [];

/** The revision each action got when it was written (its containers carry it). */
const refs: Record<string, ActionRef> = {};

beforeAll(async () => {
  router = new Router({ maxQueuePerAction: MAX_QUEUE });
  const ok: RuntimeCallResult = { outcome: 'response', status: 200, text: '{"ok":true}', size: 11 };
  const runtime = {
    init: async () => ok,
    run: async (address: string) => (runs.push(address), ok),
    close: async () => undefined,
  };
  // The pool workflow accepts requests but leases nothing: requests queue.
  const control: ControlPlane = {
    requestContainers: async (_action, count) => void asked.push(count),
    withdrawContainers: async () => undefined,
    stemCellClaimed: async () => undefined,
    containerFailed: async () => undefined,
  };
  const invoker = new ContainerInvoker({
    router,
    runtime,
    control,
    log: SILENT_LOGGER,
    provisionTimeoutMs: 60_000,
    apiHost: 'http://127.0.0.1:3233',
  });
  t = await startTestApp(
    { maxQueuePerAction: MAX_QUEUE, invocationsPerMinute: 10_000, concurrentInvocations: 1_000 },
    { invoker },
  );
  for (const name of ['queued', 'warm']) {
    const put = await t.server.call({
      method: 'PUT',
      url: `/api/v1/namespaces/_/actions/${name}`,
      payload: { exec: { kind: 'nodejs:20', code: 'x' } },
    });
    refs[name] = actionRefOf(put.json<Action>());
  }
});
afterAll(() => t.close());

const invoke = (name: string, query = '') =>
  t.server.call({ method: 'POST', url: `/api/v1/namespaces/_/actions/${name}${query}`, payload: {} });

describe('invoke over the real router and invoker', () => {
  test('a warm container answers 200 with the record', async () => {
    router.lease([testLease('w1', refs.warm!)]);
    const r = await invoke('warm', '?blocking=true');
    expect(r.statusCode).toBe(200);
    expect(r.json<Activation>().response).toMatchObject({ status: 'success', result: { ok: true } });
    expect(runs).toEqual(['http://127.0.0.1/w1']);
  });

  test('a full queue answers 429 with OpenWhisk’s shape, and records nothing', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < MAX_QUEUE; i++) {
      const r = await invoke('queued');
      expect(r.statusCode).toBe(202);
      accepted.push(r.json<{ activationId: string }>().activationId);
    }
    for (const query of ['', '?blocking=true']) {
      const refused = await invoke('queued', query);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['x-openwhisk-activation-id']).toBeUndefined();
      expect(refused.json()).toEqual({
        error: `Too many requests are waiting for action 'guest/queued' (queued: ${MAX_QUEUE}, allowed: ${MAX_QUEUE}).`,
        code: expect.any(String),
      });
    }
    // Nothing is known of the action's run time yet: one container is asked for, not one per request.
    expect(asked).toEqual([1]);

    // The queued ones run once a container arrives, and only they are recorded.
    router.lease([testLease('q1', refs.queued!, MAX_QUEUE)]);
    while (t.writer.stats().accepted < MAX_QUEUE + 1) await new Promise((resolve) => setImmediate(resolve));
    await t.writer.flush();
    const listed = await t.server.call({ url: '/api/v1/namespaces/_/activations?name=queued&limit=50' });
    expect(
      listed
        .json<{ activationId: string }[]>()
        .map((a) => a.activationId)
        .sort(),
    ).toEqual(accepted.sort());
  });
});
