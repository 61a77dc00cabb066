// RuntimeClient and runtimes at http URLs whose secrets a backend keeps (kubernetes): the secret is
// looked up once per address and sent on every call; a refused secret (the address now belongs to
// another container) is looked up again on the next call.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SECRET_HEADER } from '../../runtimes/nodejs/src/runtime-secret';
import { RuntimeClient } from '../../runtimes/runtime-client';

let server: Server;
let address: string;
let current = 'first';
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const given = request.headers[SECRET_HEADER] as string | undefined;
    seen.push(given);
    request.resume();
    response.writeHead(given === current ? 200 : 401, { 'content-type': 'application/json' });
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const RUN = { value: {}, namespace: 'n', action_name: 'a', activation_id: 'x', deadline: '0' };

test('sends the looked-up secret, and looks it up again after a 401', async () => {
  const lookups: string[] = [];
  const client = new RuntimeClient({
    secrets: {
      runtimeSecret: async (at) => {
        lookups.push(at);
        return current;
      },
    },
  });
  expect(await client.run(address, RUN, 5000)).toMatchObject({ outcome: 'response', status: 200 });
  expect(await client.run(address, RUN, 5000)).toMatchObject({ outcome: 'response', status: 200 });
  expect(lookups).toEqual([address]);
  current = 'second'; // another runtime now listens at the address
  expect(await client.run(address, RUN, 5000)).toMatchObject({ outcome: 'response', status: 401 });
  expect(await client.run(address, RUN, 5000)).toMatchObject({ outcome: 'response', status: 200 });
  expect(lookups).toEqual([address, address]);
  expect(seen.slice(-4)).toEqual(['first', 'first', 'first', 'second']);
  await client.closeAll();
});

test('without a source of secrets, or when it finds none, no secret is sent', async () => {
  for (const client of [
    new RuntimeClient(),
    new RuntimeClient({ secrets: { runtimeSecret: async () => undefined } }),
    new RuntimeClient({ secrets: { runtimeSecret: () => Promise.reject(new Error('api down')) } }),
  ]) {
    expect(await client.run(address, RUN, 5000)).toMatchObject({ outcome: 'response', status: 401 });
    expect(seen.at(-1)).toBeUndefined();
    await client.closeAll();
  }
});

test('prepare looks the secret up before the first call, once, and the call sends it', async () => {
  current = 'prepared';
  const lookups: string[] = [];
  let answer: (secret: string) => void = () => undefined;
  const client = new RuntimeClient({
    secrets: {
      runtimeSecret: (at) => {
        lookups.push(at);
        return new Promise((resolve) => (answer = resolve));
      },
    },
  });
  client.prepare(address);
  client.prepare(address);
  expect(lookups).toEqual([address]);
  answer('prepared');
  expect(await client.run(address, RUN, 5000)).toMatchObject({ outcome: 'response', status: 200 });
  expect(lookups).toEqual([address]);
  expect(seen.at(-1)).toBe('prepared');
  await client.closeAll();
});
