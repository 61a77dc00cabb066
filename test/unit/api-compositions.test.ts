// Sequences and conductor compositions over a scripted invoker: create-time checks with
// OpenWhisk's messages, data flow, short circuit, the composition record; and public packages
// across namespaces with the binding re-checked on every call.
import { makeAuthKey } from '../../api/api-keys';
import type { Activation } from '../../common/types';
import type { TestApp } from './api-test-server';
import { basicAuth, startTestApp } from './api-test-server';

let t: TestApp;
let otherAuth: string;
beforeAll(async () => {
  t = await startTestApp({
    blockingWaitMs: 2_000,
    invocationsPerMinute: 10_000,
    concurrentInvocations: 1_000,
  });
  const other = makeAuthKey('other');
  await t.entities.putAuthKey(other.record);
  otherAuth = basicAuth(other.apiKey);
  for (const name of ['a', 'b', 'app-error'])
    await putAction(name, { exec: { kind: 'nodejs:20', code: 'x' } });
});
afterAll(() => t.close());

const putAction = (path: string, payload: unknown, headers?: Record<string, string>) =>
  t.server.call({
    method: 'PUT',
    url: `/api/v1/namespaces/_/actions/${path}?overwrite=true`,
    payload,
    headers,
  });
const sequence = (components: unknown[]) => ({ exec: { kind: 'sequence', components } });
const invoke = (path: string, payload: unknown = {}, headers?: Record<string, string>, ns = '_') =>
  t.server.call({
    method: 'POST',
    url: `/api/v1/namespaces/${ns}/actions/${path}?blocking=true`,
    payload,
    headers,
  });
const recordOf = async (id: string): Promise<Activation | undefined> => {
  await t.writer.flush();
  return t.activations.get('guest', id);
};

describe('sequences', () => {
  test('create stores resolved components and `_actions`; PUT parameters are discarded', async () => {
    const r = await putAction('s1', {
      ...sequence(['/_/a', '/guest/b']),
      parameters: [{ key: 'p', value: 1 }],
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      exec: { kind: 'sequence', components: ['/guest/a', '/guest/b'] },
      parameters: [{ key: '_actions', value: ['/guest/a', '/guest/b'] }],
    });
  });

  test.each([
    [[], 'No component specified for the sequence.'],
    [['/guest/missing'], 'Sequence component does not exist.'],
    [['/guest/cyc'], 'Sequence may not refer to itself.'],
    [
      ['a'],
      'The request content was malformed:\nrequirement failed: The fully qualified name of the entity must contain at least the namespace and the name of the entity.',
    ],
    [Array.from({ length: 51 }, () => '/guest/a'), 'Too many actions in the sequence.'],
  ])('create with %j → 400 %s', async (components, error) => {
    const r = await putAction('cyc', sequence(components));
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error });
  });

  test('a cycle through a nested sequence is refused on update', async () => {
    await putAction('outer', sequence(['/guest/a']));
    await putAction('inner', sequence(['/guest/outer']));
    const r = await putAction('outer', sequence(['/guest/inner']));
    expect(r.json()).toMatchObject({ error: 'Sequence may not refer to itself.' });
  });

  test('blocking invoke: each result feeds the next; the record sums and lists its components', async () => {
    await putAction('s2', sequence(['/guest/a', '/guest/b']));
    const r = await invoke('s2', { x: 1 });
    expect(r.statusCode).toBe(200);
    const record = r.json<Activation>();
    expect(record.response.result).toEqual({ params: { params: { x: 1 } } });
    expect(record.logs).toHaveLength(2);
    expect(record.annotations).toEqual(
      expect.arrayContaining([
        { key: 'topmost', value: true },
        { key: 'kind', value: 'sequence' },
        { key: 'path', value: 'guest/s2' },
        expect.objectContaining({ key: 'limits' }),
      ]),
    );
    const first = await recordOf(record.logs[0]!);
    // `cause` itself is set by the hot path (the scripted invoker here does not); e2e checks it.
    expect(first).toMatchObject({ name: 'a' });
    expect(first!.annotations).toContainEqual({ key: 'causedBy', value: 'sequence' });
    expect(record.duration).toBe(2);
  });

  test('an error result stops the chain: 502 with that response', async () => {
    await putAction('s3', sequence(['/guest/app-error', '/guest/a']));
    const r = await invoke('s3');
    expect(r.statusCode).toBe(502);
    expect(r.json<Activation>().logs).toHaveLength(1);
  });

  test('a component deleted after create: application error at run time', async () => {
    await putAction('gone', { exec: { kind: 'nodejs:20', code: 'x' } });
    await putAction('s4', sequence(['/guest/gone']));
    await t.server.call({ method: 'DELETE', url: '/api/v1/namespaces/_/actions/gone' });
    const r = await invoke('s4');
    expect(r.statusCode).toBe(502);
    expect(r.json()).toMatchObject({ response: { result: { error: 'Sequence component does not exist.' } } });
  });

  test('nested sequences contribute their own id and cause', async () => {
    await putAction('inner2', sequence(['/guest/a']));
    await putAction('outer2', sequence(['/guest/inner2', '/guest/b']));
    const r = await invoke('outer2');
    const record = r.json<Activation>();
    expect(record.logs).toHaveLength(2);
    const inner = await recordOf(record.logs[0]!);
    expect(inner).toMatchObject({ name: 'inner2', cause: record.activationId });
    expect(inner!.annotations).toContainEqual({ key: 'topmost', value: false });
  });
});

describe('public packages across namespaces', () => {
  beforeAll(async () => {
    const put = (name: string, payload: unknown) =>
      t.server.call({ method: 'PUT', url: `/api/v1/namespaces/_/packages/${name}?overwrite=true`, payload });
    await put('pub', { publish: true, parameters: [{ key: 'p', value: 'pkg' }] });
    await put('priv', {});
    await putAction('pub/echo', { exec: { kind: 'nodejs:20', code: 'x' } });
    await putAction('priv/echo', { exec: { kind: 'nodejs:20', code: 'x' } });
  });
  const other = { authorization: '' };
  beforeAll(() => {
    other.authorization = otherAuth;
  });

  test('another namespace lists, reads and invokes public packages only', async () => {
    const list = await t.server.call({ url: '/api/v1/namespaces/guest/packages', headers: other });
    expect(list.json<{ name: string }[]>().map((p) => p.name)).toEqual(['pub']);
    const pkg = await t.server.call({ url: '/api/v1/namespaces/guest/packages/pub', headers: other });
    expect(pkg.statusCode).toBe(200);
    expect(pkg.json()).toMatchObject({ binding: {}, actions: [{ name: 'echo' }], feeds: [] });
    const action = await t.server.call({ url: '/api/v1/namespaces/guest/actions/pub/echo', headers: other });
    expect(action.json()).toMatchObject({ parameters: [{ key: 'p', value: 'pkg' }] });
    const run = await invoke('pub/echo', { q: 1 }, other, 'guest');
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({
      namespace: 'other',
      response: { result: { params: { p: 'pkg', q: 1 } } },
    });
    for (const url of [
      '/api/v1/namespaces/guest/packages/priv',
      '/api/v1/namespaces/guest/packages/missing',
      '/api/v1/namespaces/guest/actions/priv/echo',
      '/api/v1/namespaces/guest/actions/a',
    ]) {
      expect((await t.server.call({ url, headers: other })).statusCode).toBe(403);
    }
    expect((await invoke('priv/echo', {}, other, 'guest')).statusCode).toBe(403);
    expect((await t.server.call({ url: '/api/v1/namespaces/_/packages/missing' })).statusCode).toBe(404);
  });

  test('a binding merges its parameters and is re-checked when its target turns private', async () => {
    const bind = await t.server.call({
      method: 'PUT',
      url: '/api/v1/namespaces/_/packages/mine',
      headers: other,
      payload: { binding: { namespace: 'guest', name: 'pub' }, parameters: [{ key: 'b', value: 'bind' }] },
    });
    expect(bind.statusCode).toBe(200);
    const got = await t.server.call({ url: '/api/v1/namespaces/_/packages/mine', headers: other });
    expect(got.json()).toMatchObject({
      binding: { namespace: 'guest', name: 'pub' },
      parameters: [
        { key: 'p', value: 'pkg' },
        { key: 'b', value: 'bind' },
      ],
      actions: [{ name: 'echo' }],
    });
    const run = await invoke('mine/echo', {}, other);
    expect(run.json()).toMatchObject({ response: { result: { params: { p: 'pkg', b: 'bind' } } } });
    expect(run.json<Activation>().annotations).toContainEqual({ key: 'binding', value: 'other/mine' });

    await t.server.call({
      method: 'PUT',
      url: '/api/v1/namespaces/_/packages/pub?overwrite=true',
      payload: { publish: false },
    });
    expect((await invoke('mine/echo', {}, other)).statusCode).toBe(403);
    expect(
      (await t.server.call({ url: '/api/v1/namespaces/_/packages/mine', headers: other })).statusCode,
    ).toBe(403);
  });

  test('binding errors', async () => {
    const bind = (name: string, binding: unknown) =>
      t.server.call({ method: 'PUT', url: `/api/v1/namespaces/_/packages/${name}`, payload: { binding } });
    expect((await bind('b1', { namespace: '_', name: 'nope' })).json()).toMatchObject({
      error: 'Binding references a package that does not exist.',
    });
    await bind('b2', { namespace: '_', name: 'priv' });
    expect((await bind('b3', { namespace: '_', name: 'b2' })).json()).toMatchObject({
      error: 'Cannot bind to another package binding.',
    });
    const convert = await t.server.call({
      method: 'PUT',
      url: '/api/v1/namespaces/_/packages/priv?overwrite=true',
      payload: { binding: { namespace: '_', name: 'pub' } },
    });
    expect(convert.statusCode).toBe(409);
  });
});
