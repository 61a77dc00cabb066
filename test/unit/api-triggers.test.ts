// Triggers and rules over a scripted invoker: CRUD with OpenWhisk's shapes and messages,
// enable/disable, fire (204 without an active rule, 202 otherwise), the trigger record's per-rule
// log lines, and the fire throttle.
import type { Activation } from '../../common/types';
import type { TestApp, ScriptedInvoker } from './api-test-server';
import { startTestApp } from './api-test-server';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ invocationsPerMinute: 10_000, concurrentInvocations: 1_000, firesPerMinute: 20 });
  await call('PUT', 'actions/hello', { exec: { kind: 'nodejs:20', code: 'x' } });
});
afterAll(() => t.close());

const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, payload?: unknown) =>
  t.server.call({ method, url: `/api/v1/namespaces/_/${path}`, payload });

describe('triggers and rules', () => {
  test('trigger CRUD: parameters, annotations, limits {}, version bump, feed validation', async () => {
    const created = await call('PUT', 'triggers/t1', {
      parameters: [{ key: 'p', value: 1 }],
      annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }],
    });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ name: 't1', namespace: 'guest', version: '0.0.1', limits: {} });
    expect((await call('PUT', 'triggers/t1', {})).statusCode).toBe(409);
    const updated = await call('PUT', 'triggers/t1?overwrite=true', { annotations: [] });
    expect(updated.json()).toMatchObject({
      version: '0.0.2',
      annotations: [],
      parameters: [{ key: 'p', value: 1 }],
    });
    const bad = await call('PUT', 'triggers/t2', { annotations: [{ key: 'feed', value: 'nope' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'Feed name is not valid' });
    expect((await call('GET', 'triggers')).json<{ name: string }[]>().map((x) => x.name)).toContain('t1');
  });

  test('rules: create errors, status, enable/disable, trigger map, delete', async () => {
    await call('PUT', 'triggers/t3', { parameters: [{ key: 'from', value: 'trigger' }] });
    expect((await call('PUT', 'rules/r0', { trigger: '/_/t3' })).json()).toMatchObject({
      error: 'rule requires a valid trigger and a valid action',
    });
    expect((await call('PUT', 'rules/r0', { trigger: '/_/none', action: '/_/hello' })).json()).toMatchObject({
      error: 'trigger /guest/none does not exist',
    });
    expect((await call('PUT', 'rules/r0', { trigger: '/_/t3', action: '/_/none' })).json()).toMatchObject({
      error: 'action /guest/none does not exist',
    });
    const rule = await call('PUT', 'rules/r1', { trigger: '/_/t3', action: '/_/hello' });
    expect(rule.json()).toMatchObject({
      status: 'active',
      trigger: { path: 'guest', name: 't3' },
      action: { path: 'guest', name: 'hello' },
    });
    expect((await call('GET', 'triggers/t3')).json()).toMatchObject({
      rules: { 'guest/r1': { action: { path: 'guest', name: 'hello' }, status: 'active' } },
    });
    const disabled = await call('POST', 'rules/r1', { status: 'inactive' });
    expect([disabled.statusCode, disabled.body]).toEqual([200, 'OK']);
    expect((await call('GET', 'rules/r1')).json()).toMatchObject({ status: 'inactive' });
    expect((await call('POST', 'rules/r1', { status: 'bogus' })).statusCode).toBe(400);
    expect((await call('GET', 'rules')).json<object[]>()[0]).not.toHaveProperty('status');

    // No active rule: 204 and no record.
    const quiet = await call('POST', 'triggers/t3', { x: 1 });
    expect([quiet.statusCode, quiet.body]).toEqual([204, '']);

    await call('POST', 'rules/r1', { status: 'active' });
    await call('PUT', 'rules/r2', { trigger: '/_/t3', action: '/_/hello' });
    await call('POST', 'rules/r2', { status: 'inactive' });
    const fired = await call('POST', 'triggers/t3', { x: 1 });
    expect(fired.statusCode).toBe(202);
    const { activationId } = fired.json<{ activationId: string }>();
    expect(fired.headers['x-openwhisk-activation-id']).toBe(activationId);
    let record: Activation | undefined;
    // The trigger's record is written once its rules' activations are: a few turns of the event loop.
    for (let i = 0; i < 1000 && !record; i += 1) {
      await t.writer.flush();
      record = await t.activations.get('guest', activationId);
      if (!record) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(record).toMatchObject({
      name: 't3',
      response: { success: true, result: { x: 1 } },
      annotations: [],
    });
    const lines = record!.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual(
      expect.arrayContaining([
        {
          statusCode: 0,
          success: true,
          activationId: expect.any(String),
          rule: 'guest/r1',
          action: 'guest/hello',
        },
        {
          statusCode: 1,
          success: false,
          error: "Rule 'guest/r2' is inactive, action 'guest/hello' was not activated.",
          rule: 'guest/r2',
          action: 'guest/hello',
        },
      ]),
    );
    const ran = (t.invoker as ScriptedInvoker).requests.find(
      (r) => r.activationId === lines.find((l) => l.success)!.activationId,
    );
    expect(ran?.params).toMatchObject({ from: 'trigger', x: 1, __ow_headers: expect.any(Object) });
    expect(ran?.params.__ow_headers).not.toHaveProperty('authorization');

    const deleted = await call('DELETE', 'rules/r2');
    expect(deleted.json()).toMatchObject({ status: 'inactive' });
    await call('DELETE', 'triggers/t3');
    expect((await call('GET', 'rules/r1')).json()).toMatchObject({ status: 'inactive' });
    expect((await call('POST', 'rules/r1', { status: 'active' })).json()).toMatchObject({
      error: 'Only rules with existing triggers can be activated',
    });
    expect((await call('POST', 'triggers/t3', {})).statusCode).toBe(404);
  });

  test('fires past firesPerMinute answer 429', async () => {
    await call('PUT', 'triggers/t4', {});
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) statuses.push((await call('POST', 'triggers/t4', {})).statusCode);
    expect(statuses).toContain(429);
    const refused = await call('POST', 'triggers/t4', {});
    expect(refused.json<{ error: string }>().error).toMatch(
      /^Too many requests in the last minute \(count: \d+, allowed: 20\)\.$/,
    );
  });
});
