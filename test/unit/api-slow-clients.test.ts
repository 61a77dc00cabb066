// Audit M9: a client that sends its request slowly, or holds sockets open, cannot hold the
// controller forever. Raw sockets on 127.0.0.1 only.
import { connect, type Socket } from 'node:net';
import { startTestApp, GUEST_AUTH, type TestApp } from './api-test-server';

let t: TestApp;
afterEach(async () => t?.close());

function open(origin: string): Promise<Socket> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sent until it closed the socket. */
function untilClosed(socket: Socket): Promise<string> {
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve(received)));
}

test('a request body that trickles in is cut off with 408 after the request timeout', async () => {
  t = await startTestApp({ requestTimeoutMs: 300 });
  const socket = await open(t.server.origin);
  const closed = untilClosed(socket);
  socket.write(
    [
      'PUT /api/v1/namespaces/_/actions/slow HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: ${GUEST_AUTH}`,
      'Content-Type: application/json',
      'Content-Length: 1000',
      '',
      '{"exec":',
    ].join('\r\n'),
  );
  // The rest never comes; the server must end the exchange on its own.
  expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
});

test('sockets past the connection cap are refused at once', async () => {
  t = await startTestApp({ maxConnections: 2 });
  const held = [await open(t.server.origin), await open(t.server.origin)];
  const third = await open(t.server.origin);
  expect(await untilClosed(third)).toBe('');
  // The held ones still work.
  const [first] = held;
  const reply = untilClosed(first!);
  first!.write('GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  expect(await reply).toMatch(/^HTTP\/1\.1 200 /);
  held[1]!.destroy();
});
