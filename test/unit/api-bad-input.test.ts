// Bad input of every kind gets a clear 4xx in OpenWhisk's shape, with X-Request-ID and a JSON
// content type, and the controller keeps serving afterwards.
import type { TestApp, TestCall } from './api-test-server';
import { startTestApp } from './api-test-server';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.server.call({
    method: 'PUT',
    url: '/api/v1/namespaces/_/actions/ok',
    payload: { exec: { kind: 'nodejs:20', code: 'x' } },
  });
});
afterAll(() => t.close());

const json = { 'content-type': 'application/json' };
const action = (name: string) => `/api/v1/namespaces/_/actions/${name}`;
const PUT = (name: string, payload: unknown): TestCall => ({ method: 'PUT', url: action(name), payload });

const cases: [string, TestCall, number, string | RegExp][] = [
  [
    'malformed JSON',
    { method: 'PUT', url: action('m'), payload: '{"exec":', headers: json },
    400,
    /^The request content was malformed:\n/,
  ],
  [
    'a JSON array body on invoke',
    { method: 'POST', url: action('ok'), payload: '[1,2]', headers: json },
    400,
    /^The request content was malformed:\n/,
  ],
  [
    'a text body',
    { method: 'POST', url: action('ok'), payload: 'hi', headers: { 'content-type': 'text/plain' } },
    415,
    "The request's Content-Type is not supported. Expected:\napplication/json",
  ],
  [
    'an unknown content type',
    { method: 'PUT', url: action('m'), payload: '<x/>', headers: { 'content-type': 'application/xml' } },
    415,
    /Content-Type is not supported/,
  ],
  ['exec of the wrong type', PUT('m', { exec: 'code' }), 400, /^The request content was malformed:\n/],
  [
    'a limit of the wrong type',
    PUT('m', { exec: { kind: 'nodejs:20', code: 'x' }, limits: { memory: '256' } }),
    400,
    /must be integer/,
  ],
  [
    'parameters not an array',
    PUT('m', { exec: { kind: 'nodejs:20', code: 'x' }, parameters: { a: 1 } }),
    400,
    /must be array/,
  ],
  ['no exec on create', PUT('m', {}), 400, 'exec undefined'],
  [
    'an unknown kind',
    PUT('m', { exec: { kind: 'cobol:85', code: 'x' } }),
    400,
    "The request content was malformed:\nThe specified runtime 'cobol:85' is not supported by this platform. Valid values are: 'blackbox', 'nodejs:20', 'nodejs:default'.",
  ],
  [
    'memory too high',
    PUT('m', { exec: { kind: 'nodejs:20', code: 'x' }, limits: { memory: 1024 } }),
    400,
    'requirement failed: memory 1024 MB exceeds allowed threshold of 512 MB',
  ],
  [
    'timeout too low',
    PUT('m', { exec: { kind: 'nodejs:20', code: 'x' }, limits: { timeout: 50 } }),
    400,
    'requirement failed: duration 50 milliseconds below allowed threshold of 100 milliseconds',
  ],
  [
    'timeout too high',
    PUT('m', { exec: { kind: 'nodejs:20', code: 'x' }, limits: { timeout: 300001 } }),
    400,
    'requirement failed: duration 300001 milliseconds exceeds allowed threshold of 300000 milliseconds',
  ],
  [
    'logs too high',
    PUT('m', { exec: { kind: 'nodejs:20', code: 'x' }, limits: { logs: 11 } }),
    400,
    'requirement failed: log size 11 MB exceeds allowed threshold of 10 MB',
  ],
  [
    'concurrency zero',
    PUT('m', { exec: { kind: 'nodejs:20', code: 'x' }, limits: { concurrency: 0 } }),
    400,
    'requirement failed: concurrency 0 below allowed threshold of 1',
  ],
  [
    'concurrency over 500',
    PUT('m', { exec: { kind: 'nodejs:20', code: 'x' }, limits: { concurrency: 501 } }),
    400,
    'requirement failed: concurrency 501 exceeds allowed threshold of 500',
  ],
  [
    'parameters over 1 MB',
    PUT('m', {
      exec: { kind: 'nodejs:20', code: 'x' },
      parameters: [{ key: 'p', value: 'x'.repeat(1024 * 1024) }],
    }),
    413,
    /^parameters larger than allowed: \d+ > 1048576 bytes\.$/,
  ],
  [
    'annotations over 1 MB',
    PUT('m', {
      exec: { kind: 'nodejs:20', code: 'x' },
      annotations: [{ key: 'a', value: 'x'.repeat(1024 * 1024) }],
    }),
    413,
    /^annotations larger than allowed: \d+ > 1048576 bytes\.$/,
  ],
  [
    'an illegal name',
    { url: action('bad%24name') },
    400,
    'The name of the entity contains illegal characters.',
  ],
  [
    'a name ending in a space',
    { url: action('bad%20') },
    400,
    'The name of the entity contains illegal characters.',
  ],
  ['a name too long', { url: action('a'.repeat(257)) }, 400, 'Name longer than allowed: 257 > 256.'],
  [
    'an illegal namespace',
    { url: '/api/v1/namespaces/b%24d/actions' },
    400,
    'The namespace contains illegal characters.',
  ],
  ['an unknown route', { url: '/api/v1/nothing/here' }, 404, 'The requested resource does not exist.'],
  [
    'a binding without a name (audit L7, found by the fuzzer)',
    {
      method: 'PUT',
      url: '/api/v1/namespaces/_/packages/b?overwrite=true',
      payload: { binding: { name: '' } },
    },
    400,
    /^The request content was malformed:\nbinding must name a package/,
  ],
  [
    'an unknown collection',
    { url: '/api/v1/namespaces/_/widgets' },
    404,
    'The requested resource does not exist.',
  ],
  [
    'a list limit too high',
    { url: '/api/v1/namespaces/_/actions?limit=201' },
    400,
    "The value '201' is not in the range of 0 to 200 for actions.",
  ],
  [
    'a negative skip',
    { url: '/api/v1/namespaces/_/actions?skip=-1' },
    400,
    "The value '-1' is not greater than or equal to 0 for actions.",
  ],
  [
    'a non-integer limit',
    { url: '/api/v1/namespaces/_/packages?limit=ten' },
    400,
    "The value 'ten' is not an integer for packages.",
  ],
  [
    'a bad boolean',
    { url: '/api/v1/namespaces/_/actions/ok?code=maybe' },
    400,
    /^The request content was malformed:\nquerystring/,
  ],
  [
    'a short activation id',
    { url: '/api/v1/namespaces/_/activations/abc' },
    400,
    'Activation id length is 3 but must be 32.',
  ],
  [
    'a non-hex activation id',
    { url: `/api/v1/namespaces/_/activations/${'z'.repeat(32)}` },
    400,
    'The activation id is not valid.',
  ],
  [
    'an unknown activation',
    { url: `/api/v1/namespaces/_/activations/${'a'.repeat(32)}` },
    404,
    'The requested resource does not exist.',
  ],
  [
    'docs with count',
    { url: '/api/v1/namespaces/_/activations?docs=true&count=true' },
    400,
    "The parameter 'docs' is not permitted with 'count'.",
  ],
  [
    'a deep name filter',
    { url: '/api/v1/namespaces/_/activations?name=a/b/c' },
    400,
    "Parameter may be a 'simple' name or 'package-name/simple' name: a/b/c",
  ],
  [
    'a bad since',
    { url: '/api/v1/namespaces/_/activations?since=yesterday' },
    400,
    'Parameter is not a valid value for epoch seconds: yesterday',
  ],
];

describe('bad input', () => {
  test.each(cases)('%s', async (_name, call, status, message) => {
    const r = await t.server.call(call);
    expect(r.statusCode).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const requestId = r.headers['x-request-id'];
    expect(requestId).toMatch(/^[A-Za-z0-9]{32}$/);
    const body = r.json<{ error: string; code: string }>();
    expect(body.code).toBe(requestId);
    if (typeof message === 'string') expect(body.error).toBe(message);
    else expect(body.error).toMatch(message);
  });

  test('a body over 50 MB is 413', async () => {
    const r = await t.server.call({
      method: 'PUT',
      url: action('huge'),
      payload: `"${'x'.repeat(50 * 1024 * 1024)}"`,
      headers: json,
    });
    expect(r.statusCode).toBe(413);
    expect(r.json<{ error: string }>().error).toMatch(
      /^Request larger than allowed: \d+ > 52428800 bytes\.$/,
    );
  });

  test('the controller keeps serving after all of that', async () => {
    const r = await t.server.call({ method: 'POST', url: `${action('ok')}?blocking=true`, payload: {} });
    expect(r.statusCode).toBe(200);
  });
});

describe('cross-cutting HTTP', () => {
  test('a caller X-Request-ID is kept unless it starts with sid_', async () => {
    const kept = await t.server.call({
      url: '/api/v1/namespaces',
      headers: { 'x-request-id': 'my-trace-1' },
    });
    expect(kept.headers['x-request-id']).toBe('my-trace-1');
    const replaced = await t.server.call({ url: '/api/v1/namespaces', headers: { 'x-request-id': 'sid_x' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  test('CORS headers on responses and OPTIONS 200', async () => {
    const r = await t.server.call({ method: 'OPTIONS', url: action('ok'), headers: { authorization: '' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-allow-methods']).toBe('GET, DELETE, POST, PUT, HEAD');
    expect(r.headers['access-control-allow-headers']).toBe(
      'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
    );
    const error = await t.server.call({ url: '/api/v1/nothing' });
    expect(error.headers['access-control-allow-origin']).toBe('*');
  });

  test('an empty body is {} for PUT updates and invokes', async () => {
    const r = await t.server.call({
      method: 'POST',
      url: `${action('ok')}?blocking=true`,
      headers: json,
      payload: '',
    });
    expect(r.statusCode).toBe(200);
    const bare = await t.server.call({ method: 'POST', url: `${action('ok')}?blocking=true` });
    expect(bare.statusCode).toBe(200);
  });
});
