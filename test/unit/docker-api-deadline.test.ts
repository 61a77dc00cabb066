// Audit L4: a dockerd that accepts a call and never answers must not stall its caller forever
// (an activation's container state, an activity's create): every call has a deadline, except the
// `/wait` whose caller bounds it. A unix socket that reads requests and never answers stands in
// for the hung engine.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerApi } from '../../backends/docker/api';

let dir: string;
let server: Server;
const sockets: Socket[] = [];
let api: DockerApi;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gust-hung-docker-'));
  server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(join(dir, 'docker.sock'), resolve));
  api = new DockerApi(join(dir, 'docker.sock'), { deadlineMs: 200 });
});
afterAll(async () => {
  await api.close();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

test('a call to a dockerd that never answers fails after the deadline, saying so', async () => {
  await expect(api.inspectContainer('c1')).rejects.toThrow(
    'docker inspect failed (0): dockerd did not answer within 200 ms',
  );
  await expect(api.removeContainer('c1')).rejects.toThrow('dockerd did not answer within 200 ms');
});

test('a wait is bounded by its caller alone', async () => {
  const caller = new AbortController();
  let outcome = 'still waiting';
  const waiting = api.waitForStop('c1', caller.signal);
  void waiting.then(
    () => (outcome = 'answered'),
    () => (outcome = 'failed'),
  );
  // The clock is the API's own deadline (AbortSignal.timeout, which jest's fake timers do not
  // drive): two calls made after the wait run out theirs, one after the other, while it waits on.
  for (const id of ['c2', 'c3']) {
    await expect(api.inspectContainer(id)).rejects.toThrow('dockerd did not answer within 200 ms');
    expect(outcome).toBe('still waiting');
  }
  caller.abort();
  await expect(waiting).rejects.toThrow();
});
