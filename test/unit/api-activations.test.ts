// Activations API over SQLite: get, result, logs, list with name/skip/limit/since/upto/docs/count,
// and a caller only sees its own namespace's activations.
import { makeAuthKey } from '../../api/api-keys';
import type { Activation } from '../../common/types';
import type { TestApp } from './api-test-server';
import { basicAuth, startTestApp } from './api-test-server';
import { useFakeClock } from './fake-time';

let t: TestApp;
const ids: string[] = [];
beforeAll(async () => {
  t = await startTestApp({ invocationsPerMinute: 1000 });
  for (const name of ['one', 'two']) {
    await t.server.call({
      method: 'PUT',
      url: `/api/v1/namespaces/_/actions/${name}`,
      payload: { exec: { kind: 'nodejs:20', code: 'x' } },
    });
  }
  await t.server.call({ method: 'PUT', url: '/api/v1/namespaces/_/packages/pk', payload: {} });
  await t.server.call({
    method: 'PUT',
    url: '/api/v1/namespaces/_/actions/pk/one',
    payload: { exec: { kind: 'nodejs:20', code: 'x' } },
  });
  const clock = useFakeClock(); // one millisecond between the activations: newest first is stable
  for (const name of ['one', 'two', 'one', 'pk/one']) {
    const r = await t.server.call({
      method: 'POST',
      url: `/api/v1/namespaces/_/actions/${name}?blocking=true`,
      payload: { n: name },
    });
    ids.push(r.json<Activation>().activationId);
    clock.tick();
  }
  jest.useRealTimers();
  await t.writer.flush();
});
afterAll(() => t.close());

const get = (path: string, authorization?: string) =>
  t.server.call({
    url: `/api/v1/namespaces/_/activations${path}`,
    headers: authorization ? { authorization } : {},
  });

describe('activations', () => {
  test('get: the full API record with logs', async () => {
    const r = await get(`/${ids[0]}`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      activationId: ids[0],
      namespace: 'guest',
      name: 'one',
      subject: 'guest',
      response: { status: 'success', success: true, result: { params: { n: 'one' } } },
      logs: ['2024-01-01T00:00:00.000000000Z stdout: ran one'],
    });
  });

  test('result and logs', async () => {
    expect((await get(`/${ids[1]}/result`)).json()).toEqual({
      status: 'success',
      success: true,
      result: { params: { n: 'two' } },
    });
    expect((await get(`/${ids[1]}/logs`)).json()).toEqual({
      logs: ['2024-01-01T00:00:00.000000000Z stdout: ran two'],
    });
  });

  test('list: newest first, summaries with top-level statusCode', async () => {
    const list = (await get('')).json<Record<string, unknown>[]>();
    expect(list.map((a) => a.activationId)).toEqual([...ids].reverse());
    expect(list[0]).toMatchObject({
      namespace: 'guest',
      name: 'one',
      statusCode: 0,
      start: expect.any(Number),
      duration: 1,
    });
    expect(list[0]).not.toHaveProperty('response');
    expect(list[0]).not.toHaveProperty('logs');
  });

  test('list filters and paging', async () => {
    const names = async (query: string) =>
      (await get(query)).json<{ activationId: string }[]>().map((a) => ids.indexOf(a.activationId));
    expect(await names('?name=one')).toEqual([2, 0]);
    expect(await names('?name=pk/one')).toEqual([3]);
    expect(await names('?skip=1&limit=2')).toEqual([2, 1]);
    expect((await get('?skip=10001')).json()).toMatchObject({
      error: "The value '10001' is not in the range of 0 to 10000 for activations.",
    });
    expect(await names('?upto=99999999999999999999')).toEqual([3, 2, 1, 0]);
    expect((await get('?count=true')).json()).toEqual({ activations: 4 });
    expect((await get('?count=true&name=two')).json()).toEqual({ activations: 1 });
    const all = (await get('')).json<{ start: number }[]>();
    const since = all[1]!.start;
    expect(await names(`?since=${since}`)).toEqual([3, 2]);
    expect(await names(`?upto=${since}`)).toEqual([2, 1, 0]);
    const docs = (await get('?docs=true&limit=1')).json<Activation[]>();
    expect(docs[0]).toMatchObject({
      activationId: ids[3],
      response: { status: 'success' },
      logs: [expect.any(String)],
    });
  });

  test("another namespace's activations are not visible", async () => {
    const { record, apiKey } = makeAuthKey('mallory');
    await t.entities.putAuthKey(record);
    const other = basicAuth(apiKey);
    expect((await get(`/${ids[0]}`, other)).statusCode).toBe(404);
    expect((await get('', other)).json()).toEqual([]);
    const forbidden = await t.server.call({
      url: `/api/v1/namespaces/guest/activations/${ids[0]}`,
      headers: { authorization: other },
    });
    expect(forbidden.statusCode).toBe(403);
  });
});
