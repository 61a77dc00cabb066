// OpenWhisk applications that compose or fire actions, end to end through the official
// `openwhisk` client against the real stack (harness.ts): packages shared across two namespaces
// (the binding re-checked on every call), sequences, triggers and rules, web actions (plain HTTP),
// the activation context (including `init: true` parameters and provide-api-key), the fire
// throttle; and fresh caches across two controllers on one Temporal and one store, with the
// propagation delay measured.
import openwhisk from 'openwhisk';
import { GUEST_API_KEY } from '../../api/api-keys';
import { makeAuthKey } from '../../api/api-keys';
import { masterKeyOf } from '../../api/action-keys';
import { perControllerLimit } from '../../api/namespace-throttles';
import { openStores, type Stores } from '../../store/open-stores';
import type { RunningController } from '../../workers/controller';
import { recordHistories } from '../integration/control-harness';
import type { GustUnderTest } from './harness';
import { startGust } from './harness';
import { eventually, failure } from './waiting';

jest.setTimeout(240_000);

type Client = ReturnType<typeof openwhisk>;
let gust: GustUnderTest;
let ow: Client;
let other: Client;
let otherKey: string;
let stores: Stores;

beforeAll(async () => {
  gust = await startGust({
    keyspace: 'gust_e2e_parity',
    controller: {
      concurrentInvocations: 20,
      invocationsPerMinute: 10_000,
      firesPerMinute: 10_000,
      blockingWaitMs: 60_000,
      provisionTimeoutMs: 30_000,
    },
  });
  ow = gust.client();
  stores = await openStores(gust.config.store);
  // Sealed under the controllers' master key, so actions annotated provide-api-key get it.
  const key = makeAuthKey('other', {
    masterKey: masterKeyOf(gust.config.controller.keyEncryptionKey, false),
  });
  await stores.entities.putAuthKey(key.record);
  otherKey = key.apiKey;
  other = gust.client({ apiKey: otherKey });
});
afterAll(async () => {
  // GUST_RECORD_HISTORIES=1 with the knative backend: a Knative workflow with a rollout and a delete.
  if (gust?.config.agent.backend === 'knative')
    await recordHistories(gust.embedded.client, gust.scope.prefix, 'e2e-parity', ['knativeServiceWorkflow']);
  await stores?.close();
  await gust?.stop();
});

interface Record_ {
  activationId: string;
  name: string;
  cause?: string;
  logs: string[];
  duration?: number;
  annotations: { key: string; value: unknown }[];
  response: { success: boolean; result: Record<string, unknown> };
}
const annotation = (record: Record_, key: string): unknown =>
  record.annotations.find((a) => a.key === key)?.value;
/** The client's types omit `sequence`, which it supports (lib/actions.js). */
const createSequence = (client: Client, name: string, sequence: string[]) =>
  client.actions.create({ name, sequence } as unknown as Parameters<Client['actions']['create']>[0]);
const ECHO = 'function main(params) { return params; }';
/** MB: the suite's containers share the capacity of the smallest backend it runs on (mesos: 6 GB). */
const SMALL = 128;
const STEP = (tag: string) =>
  `function main(p) { return { n: (p.n || 0) + 1, trail: (p.trail || '') + '${tag}' }; }`;

describe('packages shared across namespaces', () => {
  test('public packages are listed, read and invoked from another namespace; private ones are 403', async () => {
    await ow.packages.create({
      name: 'shared',
      package: { publish: true, parameters: [{ key: 'p', value: 'pkg' }] },
    });
    await ow.packages.create({ name: 'private' });
    await ow.actions.create({ name: 'shared/echo', action: ECHO });
    await ow.actions.create({ name: 'private/echo', action: ECHO });

    const listed = (await other.packages.list({ namespace: 'guest' })) as {
      name: string;
      binding: unknown;
    }[];
    expect(listed.map((p) => p.name)).toEqual(['shared']);
    const pkg = await other.packages.get({ name: '/guest/shared' });
    expect(pkg).toMatchObject({ binding: {}, actions: [{ name: 'echo' }] });
    const result = await other.actions.invoke({
      name: '/guest/shared/echo',
      blocking: true,
      result: true,
      params: { q: 1 },
    });
    expect(result).toEqual({ p: 'pkg', q: 1 });
    expect(
      (await failure(other.actions.invoke({ name: '/guest/private/echo', blocking: true }))).statusCode,
    ).toBe(403);
    expect((await failure(other.packages.get({ name: '/guest/private' }))).statusCode).toBe(403);
    expect((await failure(other.packages.get({ name: '/guest/nothing' }))).statusCode).toBe(403);
    expect((await failure(ow.packages.get({ name: 'nothing' }))).statusCode).toBe(404);
  });

  test('a binding merges its parameters, is annotated on the record, and is re-checked on every call', async () => {
    const binding = await other.packages.create({
      name: 'mine',
      package: { binding: { namespace: 'guest', name: 'shared' }, parameters: [{ key: 'b', value: 'bind' }] },
    });
    expect(binding).toMatchObject({ binding: { namespace: 'guest', name: 'shared' } });
    const got = await other.packages.get({ name: 'mine' });
    expect(got.parameters).toEqual([
      { key: 'p', value: 'pkg' },
      { key: 'b', value: 'bind' },
    ]);
    const record = (await other.actions.invoke({ name: 'mine/echo', blocking: true })) as unknown as Record_;
    expect(record.response.result).toEqual({ p: 'pkg', b: 'bind' });
    expect(annotation(record, 'binding')).toBe('other/mine');
    expect(annotation(record, 'path')).toBe('guest/shared/echo');

    await ow.packages.update({ name: 'shared', package: { publish: false } });
    expect((await failure(other.actions.invoke({ name: 'mine/echo', blocking: true }))).statusCode).toBe(403);
    expect((await failure(other.packages.get({ name: 'mine' }))).statusCode).toBe(403);
    await ow.packages.update({ name: 'shared', package: { publish: true } });
    expect(await other.actions.invoke({ name: 'mine/echo', blocking: true, result: true })).toEqual({
      p: 'pkg',
      b: 'bind',
    });
  });

  test('binding errors', async () => {
    const missing = await failure(
      ow.packages.create({ name: 'b1', package: { binding: { namespace: 'guest', name: 'absent' } } }),
    );
    expect([missing.statusCode, missing.error?.error]).toEqual([
      400,
      'Binding references a package that does not exist.',
    ]);
    await ow.packages.create({ name: 'b2', package: { binding: { namespace: 'guest', name: 'private' } } });
    const chained = await failure(
      ow.packages.create({ name: 'b3', package: { binding: { namespace: 'guest', name: 'b2' } } }),
    );
    expect([chained.statusCode, chained.error?.error]).toEqual([
      400,
      'Cannot bind to another package binding.',
    ]);
  });
});

describe('sequences', () => {
  beforeAll(async () => {
    await ow.actions.create({ name: 'step-a', action: STEP('a') });
    await ow.actions.create({ name: 'step-b', action: STEP('b') });
    await ow.actions.create({ name: 'fails', action: 'function main() { return { error: "boom" }; }' });
  });

  test('blocking: each result feeds the next; records of the sequence and its components', async () => {
    const created = await createSequence(ow, 'seq', ['/_/step-a', '/guest/step-b']);
    expect(created).toMatchObject({
      exec: { kind: 'sequence', components: ['/guest/step-a', '/guest/step-b'] },
      parameters: [{ key: '_actions', value: ['/guest/step-a', '/guest/step-b'] }],
    });
    const record = (await ow.actions.invoke({
      name: 'seq',
      blocking: true,
      params: { n: 10 },
    })) as unknown as Record_;
    expect(record.response).toMatchObject({ success: true, result: { n: 12, trail: 'ab' } });
    expect(record.logs).toHaveLength(2);
    expect(annotation(record, 'topmost')).toBe(true);
    expect(annotation(record, 'kind')).toBe('sequence');
    expect(annotation(record, 'limits')).toMatchObject({ memory: 256 });
    const first = (await eventually(() =>
      ow.activations.get({ name: record.logs[0]! }),
    )) as unknown as Record_;
    expect(first).toMatchObject({ name: 'step-a', cause: record.activationId });
    expect(annotation(first, 'causedBy')).toBe('sequence');
    const stored = (await eventually(() =>
      ow.activations.get({ name: record.activationId }),
    )) as unknown as Record_;
    expect(stored.logs).toEqual(record.logs);
  });

  test('non-blocking: 202 with the sequence id; an error stops the chain (502 when blocking)', async () => {
    const { activationId } = await ow.actions.invoke({ name: 'seq' });
    const record = (await eventually(() => ow.activations.get({ name: activationId }))) as unknown as Record_;
    expect(record.response.result).toEqual({ n: 2, trail: 'ab' });

    await createSequence(ow, 'seq-fails', ['/_/step-a', '/_/fails', '/_/step-b']);
    const failed = await failure(ow.actions.invoke({ name: 'seq-fails', blocking: true }));
    expect(failed.statusCode).toBe(502);
  });

  test('create errors with OpenWhisk messages', async () => {
    const cases: [string[], string][] = [
      [['/_/absent'], 'Sequence component does not exist.'],
      [['/_/seq-self'], 'Sequence may not refer to itself.'],
      [Array.from({ length: 51 }, () => '/_/step-a'), 'Too many actions in the sequence.'],
    ];
    for (const [sequence, message] of cases) {
      const error = await failure(createSequence(ow, 'seq-self', sequence));
      expect([error.statusCode, error.error?.error]).toEqual([400, message]);
    }
  });

  test('a component deleted after create: 502 Sequence component does not exist.', async () => {
    await ow.actions.create({ name: 'goes-away', action: ECHO });
    await createSequence(ow, 'seq-gone', ['/_/step-a', '/_/goes-away']);
    await ow.actions.delete({ name: 'goes-away' });
    const error = await failure(ow.actions.invoke({ name: 'seq-gone', blocking: true }));
    expect([error.statusCode, error.error?.response?.result?.error]).toEqual([
      502,
      'Sequence component does not exist.',
    ]);
  });

  test("a conductor action runs the components it names, with OpenWhisk's record", async () => {
    await ow.actions.create({
      name: 'conductor',
      annotations: { conductor: true },
      action: `function main(p) {
        const step = p.$step || 0;
        if (step === 0) return { action: 'step-a', params: { n: 1 }, state: { $step: 1 } };
        if (step === 1) return { action: '/_/step-b', params: p, state: { $step: 2 } };
        return { params: { n: p.n, trail: p.trail } };
      }`,
    });
    const record = (await ow.actions.invoke({ name: 'conductor', blocking: true })) as unknown as Record_;
    expect(record.response).toMatchObject({ success: true, result: { n: 3, trail: 'ab' } });
    expect(record.logs).toHaveLength(5);
    expect(annotation(record, 'conductor')).toBe(true);
    expect(annotation(record, 'kind')).toBe('sequence');
    const second = (await eventually(() =>
      ow.activations.get({ name: record.logs[1]! }),
    )) as unknown as Record_;
    expect(second).toMatchObject({ name: 'step-a', cause: record.activationId });
  });

  test('conductor errors: fed back to the conductor, and the composition limit', async () => {
    await other.actions.create({ name: 'private-to-other', action: ECHO });
    await ow.actions.create({
      name: 'conductor-errors',
      annotations: { conductor: true },
      limits: { memory: SMALL },
      action: `function main(p) {
        if (p.error !== undefined) return { params: { seen: p.error } };
        if (p.loop) return { action: 'step-a', params: {}, state: { loop: true } };
        return { action: p.target, params: {}, state: {} };
      }`,
    });
    const seen = (target: unknown) =>
      ow.actions.invoke({ name: 'conductor-errors', blocking: true, result: true, params: { target } });
    expect(await seen('absent')).toEqual({
      seen: "Failed to resolve action with name 'absent' during composition.",
    });
    expect(await seen(42)).toEqual({
      seen: 'Failed to parse action name from json value 42 during composition.',
    });
    expect(await seen('/other/private-to-other')).toEqual({
      seen: "Failed entitlement check for action with name '/other/private-to-other' during composition.",
    });
    const tooMany = await failure(
      ow.actions.invoke({ name: 'conductor-errors', blocking: true, params: { loop: true } }),
    );
    expect(tooMany.statusCode).toBe(502);
    expect(tooMany.error?.response?.result?.error).toBe('Too many actions in the composition.');
  });

  test('a public catalog-style component from another namespace', async () => {
    await createSequence(other, 'uses-shared', ['/guest/shared/echo']);
    expect(
      await other.actions.invoke({ name: 'uses-shared', blocking: true, result: true, params: { z: 1 } }),
    ).toEqual({ p: 'pkg', z: 1 });
  });
});

describe('triggers and rules', () => {
  test('fire runs every active rule; the trigger record lists one line per rule', async () => {
    await ow.actions.create({ name: 'on-fire', action: ECHO });
    await ow.triggers.create({ name: 'tick', trigger: { parameters: [{ key: 'from', value: 'trigger' }] } });
    const rule = await ow.rules.create({ name: 'tick-rule', trigger: 'tick', action: 'on-fire' });
    expect(rule).toMatchObject({ status: 'active', trigger: { path: 'guest', name: 'tick' } });
    await ow.rules.create({ name: 'tick-off', trigger: 'tick', action: 'on-fire' });
    await ow.rules.disable({ name: 'tick-off' });
    expect(await ow.rules.get({ name: 'tick-off' })).toMatchObject({ status: 'inactive' });
    expect(await ow.triggers.get({ name: 'tick' })).toMatchObject({
      rules: { 'guest/tick-rule': { status: 'active' }, 'guest/tick-off': { status: 'inactive' } },
    });

    const { activationId } = (await ow.triggers.invoke({ name: 'tick', params: { x: 1 } })) as {
      activationId: string;
    };
    const record = (await eventually(() => ow.activations.get({ name: activationId }))) as unknown as Record_;
    expect(record.response.result).toEqual({ x: 1 });
    const lines = record.logs.map(
      (l) => JSON.parse(l) as { rule: string; success: boolean; activationId?: string },
    );
    expect(lines.map((l) => [l.rule, l.success]).sort()).toEqual([
      ['guest/tick-off', false],
      ['guest/tick-rule', true],
    ]);
    const fired = lines.find((l) => l.success)!.activationId!;
    const ran = (await eventually(() => ow.activations.get({ name: fired }))) as unknown as Record_;
    expect(ran.response.result).toMatchObject({ from: 'trigger', x: 1 });
    expect(ran.cause).toBeUndefined();

    await ow.rules.disable({ name: 'tick-rule' });
    const quiet = await ow.triggers.invoke({ name: 'tick' });
    expect(quiet).toBeFalsy();
    await ow.rules.delete({ name: 'tick-rule' });
    await ow.rules.delete({ name: 'tick-off' });
    await ow.triggers.delete({ name: 'tick' });
    expect((await failure(ow.triggers.invoke({ name: 'tick' }))).statusCode).toBe(404);
  });

  test('rule errors', async () => {
    await ow.triggers.create({ name: 'lonely' });
    const noTrigger = await failure(ow.rules.create({ name: 'r', trigger: 'absent', action: 'on-fire' }));
    expect([noTrigger.statusCode, noTrigger.error?.error]).toEqual([
      400,
      'trigger /guest/absent does not exist',
    ]);
    const noAction = await failure(ow.rules.create({ name: 'r', trigger: 'lonely', action: 'absent' }));
    expect([noAction.statusCode, noAction.error?.error]).toEqual([
      400,
      'action /guest/absent does not exist',
    ]);
    const badFeed = await failure(
      ow.triggers.create({ name: 'bad-feed', trigger: { annotations: [{ key: 'feed', value: 'x' }] } }),
    );
    expect([badFeed.statusCode, badFeed.error?.error]).toEqual([400, 'Feed name is not valid']);
  });
});

describe('web actions (plain HTTP)', () => {
  const web = (path: string, init: RequestInit = {}) =>
    fetch(`${gust.apihost}/api/v1/web/guest/${path}`, init);
  beforeAll(async () => {
    const webExport = { 'web-export': true };
    await ow.actions.create({
      name: 'web-echo',
      action: ECHO,
      annotations: webExport,
      params: { fixed: 'yes' },
    });
    await ow.actions.create({
      name: 'web-page',
      action:
        'function main(p) { return { statusCode: 201, headers: { "x-made-by": "gust" }, body: "<h1>" + (p.who || "nobody") + "</h1>" }; }',
      annotations: webExport,
    });
    await ow.actions.create({ name: 'web-hidden', action: ECHO });
    await ow.actions.create({
      name: 'web-raw',
      action: ECHO,
      annotations: { 'web-export': true, 'raw-http': true },
    });
    await ow.actions.create({
      name: 'web-secret',
      action: ECHO,
      annotations: { 'web-export': true, 'require-whisk-auth': 'letmein', final: true },
      params: { locked: 'v' },
    });
    await ow.actions.create({
      name: 'web-fails',
      action: 'function main() { return { error: { statusCode: 418, body: "teapot" } }; }',
      annotations: webExport,
    });
  });

  test('.json merges query and JSON body over parameters, with the __ow_ fields', async () => {
    const response = await web('default/web-echo.json/extra/path?q=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ b: 2 }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ fixed: 'yes', q: '1', b: 2, __ow_method: 'post', __ow_path: '/extra/path' });
    expect(body.__ow_headers).toMatchObject({ 'content-type': 'application/json' });
    expect(body).not.toHaveProperty('__ow_user');
    expect(response.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  test('form bodies, .http responses, raw-http, OPTIONS without invoking', async () => {
    const form = await web('default/web-echo.json', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=two',
    });
    expect(await form.json()).toMatchObject({ a: '1', b: 'two' });
    const page = await web('default/web-page?who=ada');
    expect([page.status, page.headers.get('content-type'), page.headers.get('x-made-by')]).toEqual([
      201,
      'text/html',
      'gust',
    ]);
    expect(await page.text()).toBe('<h1>ada</h1>');
    const raw = await web('default/web-raw.json?x=1', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(await raw.json()).toMatchObject({ __ow_query: 'x=1', __ow_body: 'hello', __ow_method: 'put' });
    const preflight = await web('default/web-echo', { method: 'OPTIONS' });
    expect([preflight.status, preflight.headers.get('access-control-allow-methods')]).toEqual([
      200,
      'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH',
    ]);
    const text = await web('default/web-page.text?who=bob');
    expect(await text.text()).toBe('<h1>bob</h1>');
  });

  test('errors: not exported, reserved and final parameters, require-whisk-auth, response shape', async () => {
    expect((await web('default/web-hidden.json')).status).toBe(404);
    expect((await web('default/absent.json')).status).toBe(404);
    expect((await fetch(`${gust.apihost}/api/v1/web/nobody/default/web-echo.json`)).status).toBe(404);
    const reserved = await web('default/web-echo.json?__ow_method=get');
    expect([reserved.status, ((await reserved.json()) as { error: string }).error]).toEqual([
      400,
      'Request defines parameters that are not allowed (e.g., reserved properties).',
    ]);
    expect((await web('default/web-secret.json')).status).toBe(401);
    const unlocked = await web('default/web-secret.json', { headers: { 'x-require-whisk-auth': 'letmein' } });
    expect(await unlocked.json()).toMatchObject({ locked: 'v' });
    const overriding = await web('default/web-secret.json?locked=x', {
      headers: { 'x-require-whisk-auth': 'letmein' },
    });
    expect(overriding.status).toBe(400);
    const notHtml = await web('default/web-echo.html');
    expect([notHtml.status, ((await notHtml.json()) as { error: string }).error]).toEqual([
      400,
      "Response is not valid 'text/html'.",
    ]);
    const teapot = await web('default/web-fails');
    expect([teapot.status, await teapot.text()]).toEqual([418, 'teapot']);
  });

  test("an authenticated caller is __ow_user; the activation is the owner's", async () => {
    const response = await web('default/web-echo.json', {
      headers: { authorization: `Basic ${Buffer.from(otherKey).toString('base64')}` },
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.__ow_user).toBe('other');
    const id = response.headers.get('x-openwhisk-activation-id')!;
    expect(await eventually(() => ow.activations.get({ name: id }))).toMatchObject({ namespace: 'guest' });
  });
});

describe('the activation context', () => {
  // Knative runtimes initialise from their Service's environment when they start, not per
  // activation: what the code sees at load time is not an activation's there.
  const initPerActivation = process.env.GUST_E2E_BACKEND !== 'knative';
  /** An action that reports the context variables it saw while loading and while running. */
  const CONTEXT = `
    const KEYS = ['__OW_ACTIVATION_ID', '__OW_TRANSACTION_ID', '__OW_DEADLINE', '__OW_NAMESPACE',
      '__OW_ACTION_NAME', '__OW_ACTION_VERSION', '__OW_API_HOST', '__OW_API_KEY'];
    const seen = () => Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));
    const atInit = seen();
    function main(params) { return { init: atInit, run: seen(), params }; }`;
  interface Seen {
    init: Record<string, string | undefined>;
    run: Record<string, string | undefined>;
    params: Record<string, unknown>;
  }
  /** Blocking invoke with `tid` as the request's X-Request-ID (the client sends __OW_TRANSACTION_ID). */
  async function invokeAs(
    client: Client,
    name: string,
    tid: string,
  ): Promise<Record_ & { start: number; end: number }> {
    process.env.__OW_TRANSACTION_ID = tid;
    try {
      return (await client.actions.invoke({ name, blocking: true })) as unknown as Record_ & {
        start: number;
        end: number;
      };
    } finally {
      delete process.env.__OW_TRANSACTION_ID;
    }
  }

  test('/init and /run carry activation id, transaction id, deadline, namespace, action and API host', async () => {
    const timeout = 20_000;
    await ow.actions.create({ name: 'context', action: CONTEXT, limits: { timeout, memory: SMALL } });
    const cold = await invokeAs(ow, 'context', 'parity-tid-cold');
    const warm = await invokeAs(ow, 'context', 'parity-tid-warm');
    const coldSeen = cold.response.result as unknown as Seen;
    const warmSeen = warm.response.result as unknown as Seen;
    const expected = (record: Record_, tid: string) => ({
      __OW_ACTIVATION_ID: record.activationId,
      __OW_TRANSACTION_ID: tid,
      __OW_NAMESPACE: 'guest',
      __OW_ACTION_NAME: '/guest/context',
      __OW_ACTION_VERSION: '0.0.1',
      __OW_API_HOST: gust.config.controller.apiHost,
    });
    // The first activation initialised the container: /init saw its context, as /run did.
    if (initPerActivation) expect(coldSeen.init).toMatchObject(expected(cold, 'parity-tid-cold'));
    expect(coldSeen.run).toMatchObject(expected(cold, 'parity-tid-cold'));
    // A warm run gets its own context; what the code saw at load time stays the first one's.
    expect(warmSeen.run).toMatchObject(expected(warm, 'parity-tid-warm'));
    if (initPerActivation) expect(warmSeen.init.__OW_ACTIVATION_ID).toBe(cold.activationId);
    // The deadline is the call's start plus the time limit: within the activation's span, shifted.
    const deadlines: [Record_ & { start: number; end: number }, string | undefined][] = [
      [cold, coldSeen.run.__OW_DEADLINE],
      [warm, warmSeen.run.__OW_DEADLINE],
    ];
    if (initPerActivation) deadlines.push([cold, coldSeen.init.__OW_DEADLINE]);
    for (const [record, deadline] of deadlines) {
      expect(deadline).toMatch(/^\d+$/);
      expect(Number(deadline)).toBeGreaterThanOrEqual(record.start + timeout);
      expect(Number(deadline)).toBeLessThanOrEqual(record.end + timeout);
    }
    // No context field leaks into the arguments.
    expect(coldSeen.params).toEqual({});
    // Created without `provide-api-key`, the action was annotated `false`: no key.
    const stored = (await ow.actions.get({ name: 'context' })) as unknown as Record_;
    expect(annotation(stored, 'provide-api-key')).toBe(false);
    expect([coldSeen.init.__OW_API_KEY, coldSeen.run.__OW_API_KEY]).toEqual([undefined, undefined]);
  });

  test("provide-api-key: true hands the invoking identity's key to /init and /run", async () => {
    await ow.packages.create({ name: 'keyed', package: { publish: true } });
    await ow.actions.create({
      name: 'keyed/whoami',
      action: CONTEXT,
      limits: { memory: SMALL },
      annotations: { 'provide-api-key': true, 'web-export': true },
    });
    const mine = (await ow.actions.invoke({ name: 'keyed/whoami', blocking: true, result: true })) as Seen;
    expect(mine.run.__OW_API_KEY).toBe(GUEST_API_KEY);
    if (initPerActivation) expect(mine.init.__OW_API_KEY).toBe(GUEST_API_KEY);
    // Another namespace invoking the public action: its own key, its own namespace.
    const theirs = (await other.actions.invoke({
      name: '/guest/keyed/whoami',
      blocking: true,
      result: true,
    })) as Seen;
    expect(theirs.run).toMatchObject({ __OW_API_KEY: otherKey, __OW_NAMESPACE: 'other' });
    // A caller whose key has no sealed copy gets the empty key, never the previous caller's.
    const unsealed = makeAuthKey('unsealed');
    await stores.entities.putAuthKey(unsealed.record);
    const none = (await gust.client({ apiKey: unsealed.apiKey }).actions.invoke({
      name: '/guest/keyed/whoami',
      blocking: true,
      result: true,
    })) as Seen;
    expect(none.run).toMatchObject({ __OW_API_KEY: '', __OW_NAMESPACE: 'unsealed' });
    // A web action runs as its owner, with the owner's key.
    const web = await fetch(`${gust.apihost}/api/v1/web/guest/keyed/whoami.json`);
    expect(((await web.json()) as Seen).run.__OW_API_KEY).toBe(GUEST_API_KEY);
    // The key is not among the arguments.
    expect(mine.params).toEqual({});
  });

  (initPerActivation ? test : test.skip)(
    'parameters marked init: true go to /init as environment, not to /run',
    async () => {
      await ow.packages.create({
        name: 'initpkg',
        package: { parameters: [{ key: 'PKG_INIT', value: { a: 1 }, init: true } as never] },
      });
      const created = await ow.actions.create({
        name: 'initpkg/uses-init',
        action: {
          exec: {
            kind: 'nodejs:20',
            code: `const atInit = { url: process.env.SERVICE_URL, n: process.env.N, empty: process.env.NOTHING,
            pkg: process.env.PKG_INIT };
            function main(params) { return { atInit, params }; }`,
          },
          limits: { memory: SMALL },
          parameters: [
            { key: 'SERVICE_URL', value: 'https://example.invalid/db', init: true },
            { key: 'N', value: 3, init: true },
            { key: 'NOTHING', value: null, init: true },
            { key: 'plain', value: 1 },
          ],
        } as never,
      });
      expect(created.parameters).toContainEqual({
        key: 'SERVICE_URL',
        value: 'https://example.invalid/db',
        init: true,
      });
      const result = await ow.actions.invoke({
        name: 'initpkg/uses-init',
        blocking: true,
        result: true,
        params: { fromCall: true },
      });
      expect(result).toEqual({
        atInit: { url: 'https://example.invalid/db', n: '3', empty: '', pkg: '{"a":1}' },
        params: { plain: 1, fromCall: true },
      });
    },
  );

  test('the components of a sequence share its transaction id', async () => {
    await createSequence(ow, 'context-seq', ['/_/context']);
    const record = await invokeAs(ow, 'context-seq', 'parity-tid-seq');
    const seen = record.response.result as unknown as Seen;
    expect(seen.run).toMatchObject({
      __OW_TRANSACTION_ID: 'parity-tid-seq',
      __OW_ACTIVATION_ID: record.logs[0],
    });
  });
});

describe('fresh caches across two controllers', () => {
  let second: RunningController;
  let owB: Client;
  beforeAll(async () => {
    second = await gust.startController({ id: `${gust.config.controller.id}-b` });
    owB = openwhisk({ apihost: second.url, api_key: GUEST_API_KEY });
  });
  afterAll(() => second?.stop());

  test('an update through one controller is seen by the other: delay measured', async () => {
    await ow.actions.create({ name: 'fresh', action: 'function main() { return { v: 0 }; }' });
    expect(await owB.actions.invoke({ name: 'fresh', blocking: true, result: true })).toEqual({ v: 0 });
    const delays: number[] = [];
    for (let v = 1; v <= 10; v += 1) {
      const updated = await ow.actions.update({
        name: 'fresh',
        action: `function main() { return { v: ${v} }; }`,
      });
      const written = Date.now();
      await eventually(
        () => owB.actions.get({ name: 'fresh' }),
        (action) => action.version === updated.version,
        10_000,
        10,
      );
      delays.push(Date.now() - written);
    }
    expect(await owB.actions.invoke({ name: 'fresh', blocking: true, result: true })).toEqual({ v: 10 });
    delays.sort((a, b) => a - b);
    // A figure for the human reading the test output (reported, not asserted: no timed assertions).
    console.log(
      `cache propagation across controllers over ${delays.length} updates: median ${delays[5]} ms, max ${delays[9]} ms`,
    );

    await ow.actions.delete({ name: 'fresh' });
    await eventually(
      () => failure(owB.actions.invoke({ name: 'fresh', blocking: true })),
      (error) => error.statusCode === 404,
      10_000,
    );
  });

  test('a deleted API key stops working on every controller', async () => {
    const key = makeAuthKey('short-lived');
    await stores.entities.putAuthKey(key.record);
    const viaB = openwhisk({ apihost: second.url, api_key: key.apiKey });
    expect(await viaB.namespaces.list()).toEqual(['short-lived']);
    await stores.entities.deleteAuthKey(key.record.uuid);
    const refused = await eventually(
      () => failure(viaB.namespaces.list()),
      (error) => error.statusCode === 401,
      10_000,
    );
    expect(refused.statusCode).toBe(401);
  });
});

describe('a controller with short limits (3 fires a minute, 1 s blocking wait)', () => {
  let short: RunningController;
  let client: Client;
  beforeAll(async () => {
    short = await gust.startController({
      id: `${gust.config.controller.id}-short`,
      firesPerMinute: 3,
      blockingWaitMs: 1_000,
      // Its share of the limits stays what its first count of the live controllers made it.
      throttleShareRefreshMs: 600_000,
    });
    client = openwhisk({ apihost: short.url, api_key: GUEST_API_KEY });
    await eventually(
      async () => short.app.gust.fireThrottles.controllers,
      (n) => n >= 2,
    );
  });
  afterAll(() => short?.stop());

  test("fires past its share of firesPerMinute answer 429 with OpenWhisk's message", async () => {
    // The limit is the namespace's across this Gust's live controllers (audit L2).
    const allowed = perControllerLimit(3, short.app.gust.fireThrottles.controllers);
    await client.triggers.create({ name: 'throttled' });
    const outcomes: unknown[] = [];
    for (let i = 0; i < 5; i += 1) {
      outcomes.push(
        await client.triggers.invoke({ name: 'throttled' }).then(
          () => 'fired',
          (error: unknown) => error,
        ),
      );
    }
    expect(outcomes.slice(0, allowed)).toEqual(Array(allowed).fill('fired'));
    expect(outcomes[4]).toMatchObject({
      statusCode: 429,
      error: {
        error: expect.stringMatching(
          new RegExp(`^Too many requests in the last minute \\(count: \\d+, allowed: ${allowed}\\)\\.$`),
        ),
      },
    });
  });

  test('past the blocking wait: a sequence answers 202 with its id, a web action "Response not yet ready."', async () => {
    // The action takes 3 s; the controller waits 1 s.
    await client.actions.create({
      name: 'slow',
      action: 'function main() { return new Promise((r) => setTimeout(() => r({ done: true }), 3000)); }',
      annotations: { 'web-export': true },
      limits: { memory: SMALL },
    });
    await createSequence(client, 'slow-seq', ['/_/slow']);
    const accepted = (await client.actions.invoke({ name: 'slow-seq', blocking: true })) as unknown as {
      activationId: string;
      response?: unknown;
    };
    expect(accepted.response).toBeUndefined();
    const web = await fetch(`${short.url}/api/v1/web/guest/default/slow.json`);
    expect(web.status).toBe(202);
    expect(await web.json()).toMatchObject({ error: 'Response not yet ready.' });
    // The sequence ran on to completion.
    const record = (await eventually(() =>
      client.activations.get({ name: accepted.activationId }),
    )) as unknown as Record_;
    expect(record).toMatchObject({ name: 'slow-seq', response: { success: true, result: { done: true } } });
  });
});
