// Audit C1: an action container reaches nothing (no other container's runtime, no controller,
// Temporal, Cassandra, dockerd or other host service), and a runtime answers only the caller that
// holds its per-container secret. Proven by configuration (what the engine set up, what the
// container sees of its own network) and by calls over unix sockets and 127.0.0.1 only: nothing
// here ever dials another address.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Pool } from 'undici';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import type { ContainerInfo } from '../../common/types';
import { DockerApi } from '../../backends/docker/api';
import { DockerBackend } from '../../backends/docker/backend';
import { forwarderName } from '../../backends/docker/spec';
import { nodejsRuntimeEntry } from '../../runtimes/nodejs/runtime-entry';
import { socketPathOf } from '../../runtimes/runtime-address';
import { RuntimeClient } from '../../runtimes/runtime-client';
import { specsFor } from './backend-fixtures';

jest.setTimeout(120_000);

const OWNER = `test-isolation-${process.pid}`;
const config = loadConfig();
const backend = new DockerBackend({
  socketPath: config.agent.dockerSocket,
  hostId: 'test-host',
  capacityMB: 4096,
});
const api = new DockerApi(config.agent.dockerSocket);
const client = new RuntimeClient();
const spec = specsFor(OWNER, 128);

/** A /run through Gust's client: its status and parsed body. */
async function run(info: ContainerInfo): Promise<{ status: number; body: unknown }> {
  const result = await client.run(
    info.address,
    { value: {}, namespace: 'guest', action_name: '/guest/t', activation_id: '1'.repeat(32), deadline: '0' },
    10_000,
  );
  if (result.outcome !== 'response') throw new Error(`no response: ${JSON.stringify(result)}`);
  return { status: result.status, body: JSON.parse(result.text) };
}

/** What docker set up for a container: its network mode, networks and published ports. */
async function networkOf(idOrName: string) {
  const inspected = (await api.inspectContainer(idOrName)) as unknown as {
    HostConfig: { NetworkMode: string; PortBindings?: Record<string, unknown> | null };
    NetworkSettings: {
      Networks: Record<string, { IPAddress: string; Gateway: string }>;
      Ports: Record<string, unknown> | null;
    };
  };
  return {
    mode: inspected.HostConfig.NetworkMode,
    networks: Object.fromEntries(
      Object.entries(inspected.NetworkSettings.Networks).map(([name, n]) => [name, [n.IPAddress, n.Gateway]]),
    ),
    ports: inspected.NetworkSettings.Ports ?? {},
  };
}

afterAll(async () => {
  for (const container of await backend.list({ [LABELS.owner]: OWNER })) await backend.destroy(container.id);
  expect(await api.listContainers([`${LABELS.owner}=${OWNER}`])).toEqual([]);
  await client.closeAll();
  await backend.close();
  await api.close();
});

it('gives a runtime container no interface but loopback, no route, no port, and keeps the secret from the action', async () => {
  const info = await backend.create(spec());
  expect(info.address).toMatch(/^unix:\//);
  // Not even libnetwork's "none" endpoint: runc made the namespace.
  expect(await networkOf(info.id)).toEqual({ mode: 'none', networks: {}, ports: {} });

  // What the action itself sees from inside.
  const code = `async function main() {
    const fs = require('fs');
    const table = (file) => fs.readFileSync(file, 'utf8').trim().split('\\n').slice(1);
    return {
      interfaces: table('/proc/net/dev').slice(1).map((line) => line.split(':')[0].trim()),
      routes: table('/proc/net/route'),
      // Loopback is up (IFF_UP) and localhost resolves, as under Docker's own /etc/hosts.
      loopbackUp: (parseInt(fs.readFileSync('/sys/class/net/lo/flags', 'utf8'), 16) & 1) === 1,
      localhost: await new Promise((resolve) => require('dns').lookup('localhost', 4, (e, a) => resolve(e ? e.code : a))),
      env: Object.keys(process.env).filter((key) => /GUST|SECRET|CONCURRENT/.test(key)),
      secretFile: fs.existsSync('/gust/secret'),
      environ: fs.readFileSync('/proc/1/environ', 'utf8').includes('SECRET='),
      // M7: no capability, a root filesystem it cannot write, a /tmp it can.
      capabilities: fs.readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\\s*(\\w+)/m)[1],
      writeRoot: (() => { try { fs.writeFileSync('/x', 'x'); return 'written'; } catch (e) { return e.code; } })(),
      writeTmp: (() => { fs.writeFileSync('/tmp/x', 'x'); return fs.readFileSync('/tmp/x', 'utf8'); })(),
    };
  }`;
  const init = await client.init(
    info.address,
    { value: { name: 't', main: 'main', code, binary: false } },
    10_000,
  );
  expect(init).toMatchObject({ outcome: 'response', status: 200 });
  expect(await run(info)).toEqual({
    status: 200,
    body: {
      interfaces: ['lo'],
      routes: [],
      loopbackUp: true,
      localhost: '127.0.0.1',
      env: [],
      secretFile: false,
      environ: false,
      capabilities: '0000000000000000',
      writeRoot: 'EROFS',
      writeTmp: 'x',
    },
  });
  await client.close(info.address);
  await backend.destroy(info.id);
});

it('refuses /init and /run on the runtime socket without the secret', async () => {
  const info = await backend.create(spec());
  const socketPath = socketPathOf(info.address)!;
  const pool = new Pool('http://localhost', { socketPath });
  const post = async (path: string, headers: Record<string, string> = {}) => {
    const response = await pool.request({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ value: { name: 't', main: 'main', code: 'function main(){return {}}' } }),
    });
    return { status: response.statusCode, body: await response.body.json() };
  };
  const unauthorized = { status: 401, body: { error: 'Unauthorized.' } };
  expect(await post('/init')).toEqual(unauthorized);
  expect(await post('/init', { 'x-gust-runtime-secret': 'guess' })).toEqual(unauthorized);
  expect(await post('/run')).toEqual(unauthorized);
  await pool.close();
  // The refused /init left the runtime untouched: Gust's own call (with the secret) initialises it.
  const init = await client.init(
    info.address,
    { value: { name: 't', main: 'main', code: 'function main(){return {ok:true}}', binary: false } },
    10_000,
  );
  expect(init).toMatchObject({ outcome: 'response', status: 200, text: '{"OK":true}' });
  expect(await run(info)).toEqual({ status: 200, body: { ok: true } });
  await client.close(info.address);
  await backend.destroy(info.id);
  expect(existsSync(dirname(dirname(socketPath)))).toBe(false); // socket and secrets go with it
});

it('puts a TCP-only image and its forwarder in one network namespace that has loopback only', async () => {
  const info = await backend.create(
    spec({ image: 'gust/blackbox-echo:test', kind: 'blackbox', socketRuntime: false }),
  );
  // Not even libnetwork's "none" endpoint: runc made the namespace.
  expect(await networkOf(info.id)).toEqual({ mode: 'none', networks: {}, ports: {} });
  const forwarder = await networkOf(forwarderName(info.name));
  expect(forwarder.mode).toBe(`container:${info.id}`);
  expect(forwarder.ports).toEqual({});
  // Listing shows the action container only; the forwarder checks the secret like the runtime.
  expect((await backend.list({ [LABELS.owner]: OWNER })).map((c) => c.name)).toEqual([info.name]);
  const pool = new Pool('http://localhost', { socketPath: socketPathOf(info.address)! });
  const refused = await pool.request({ method: 'POST', path: '/run', body: '{}' });
  expect([refused.statusCode, await refused.body.json()]).toEqual([401, { error: 'Unauthorized.' }]);
  await pool.close();
  expect(await run(info)).toMatchObject({ status: 200, body: { runtime: 'blackbox-echo' } });
  await client.close(info.address);
  await backend.destroy(info.id);
  expect(await api.inspectContainer(forwarderName(info.name))).toBeNull();
});

describe('the runtime on loopback (as the process backend and tests start it)', () => {
  const start = (env: Record<string, string>) =>
    new Promise<{ port: number; stop: () => void }>((resolve, reject) => {
      const child = fork(nodejsRuntimeEntry(), [], {
        env: { PATH: process.env.PATH ?? '', __OW_PORT: '0', __OW_HOST: '127.0.0.1', ...env },
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      });
      child.once('error', reject);
      child.once('message', (message) =>
        resolve({ port: (message as { port: number }).port, stop: () => child.kill('SIGKILL') }),
      );
    });
  const post = async (port: number, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('answers only calls that carry its secret, and the action never sees it', async () => {
    const runtime = await start({ GUST_RUNTIME_SECRET: 's3cret-for-this-container' });
    const code =
      'function main(){ return { env: Object.keys(process.env).filter((k) => /SECRET/.test(k)) } }';
    const initBody = { value: { name: 't', main: 'main', code } };
    expect(await post(runtime.port, '/init', initBody)).toEqual({
      status: 401,
      body: { error: 'Unauthorized.' },
    });
    expect(await post(runtime.port, '/init', initBody, { 'x-gust-runtime-secret': 's3cret' })).toMatchObject({
      status: 401,
    });
    const secret = { 'x-gust-runtime-secret': 's3cret-for-this-container' };
    expect(await post(runtime.port, '/init', initBody, secret)).toEqual({ status: 200, body: { OK: true } });
    expect(await post(runtime.port, '/run', { value: {} })).toMatchObject({ status: 401 });
    expect(await post(runtime.port, '/run', { value: {} }, secret)).toEqual({
      status: 200,
      body: { env: [] },
    });
    runtime.stop();
  });
});
