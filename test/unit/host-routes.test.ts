// The controller's choice between a container's unix socket (its machine) and its host's agent
// endpoint (another machine), and the agent endpoint's refusals, on loopback only: the agent
// endpoint here relays to a real HTTP server on a unix socket standing in for a runtime.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Router } from '../../api/invoke/router';
import { loadConfig } from '../../common/config';
import { createLogger } from '../../common/logger';
import type { ContainerInfo } from '../../common/types';
import {
  startAgentEndpoint,
  type HostedContainers,
  type RunningAgentEndpoint,
} from '../../backends/docker/agent-endpoint';
import { agentRoute, containerOfRoute, HostRoutes, routeOf } from '../../backends/host-routes';
import { derivedRuntimeSecret } from '../../backends/runtime-secret-key';
import { SECRET_HEADER } from '../../runtimes/nodejs/src/runtime-secret';
import { RuntimeClient } from '../../runtimes/runtime-client';
import { advertisedUrl } from '../../workers/agent';

const container = (over: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: 'c1',
  name: 'gust_pool_guest_hello_1',
  host: 'h2',
  backend: 'docker',
  address: 'unix:/var/lib/gust/runtimes/ab/rt/runtime.sock',
  kind: 'nodejs:20',
  memoryMB: 256,
  labels: {},
  createdAt: 0,
  agentUrl: 'http://127.0.0.1:9000',
  ...over,
});
const AGENT_ROUTE = 'http://127.0.0.1:9000/containers/gust_pool_guest_hello_1';

describe('route choice', () => {
  it.each<[string, Partial<ContainerInfo>, string[], string]>([
    ['a container of this machine keeps its socket', { host: 'h1' }, ['h1'], container().address],
    ['one of another host goes through its agent', {}, ['h1'], AGENT_ROUTE],
    ['every host is remote with GUST_LOCAL_HOSTS=none', { host: 'h1' }, [], AGENT_ROUTE],
    [
      'a host that advertises no endpoint keeps the socket',
      { agentUrl: undefined },
      ['h1'],
      container().address,
    ],
    [
      'an http runtime (kubernetes) is called directly',
      { address: 'http://127.0.0.1:21000' },
      ['h1'],
      'http://127.0.0.1:21000',
    ],
    [
      'a trailing slash of the advertised URL is dropped',
      { agentUrl: 'http://127.0.0.1:9000/' },
      ['h1'],
      AGENT_ROUTE,
    ],
  ])('%s', (_, over, localHosts, expected) => {
    expect(routeOf(container(over), new Set(localHosts))).toBe(expected);
  });

  it('reads the container back from a route, and nothing from other addresses', () => {
    const odd = 'gust_a_0040b.c-d_7';
    expect(containerOfRoute(agentRoute('http://127.0.0.1:9000', odd))).toBe(odd);
    expect(containerOfRoute('http://127.0.0.1:21000')).toBeUndefined();
    expect(containerOfRoute(container().address)).toBeUndefined();
  });

  it('the router calls a lease at the address chosen for it', () => {
    const routes = new HostRoutes({ localHosts: ['h1'], secretKey: 'k' });
    const router = new Router({ maxQueuePerAction: 1, addressOf: routes.addressOf });
    const action = { namespace: 'guest', name: 'hello', version: '0.0.1' };
    router.lease([
      { container: container(), action, slots: 1 },
      { container: container({ id: 'c2', host: 'h1' }), action, slots: 1 },
    ]);
    const first = router.acquire(action)!;
    const second = router.acquire(action)!;
    const byId = Object.fromEntries([first, second].map((c) => [c.id, c.address]));
    expect(byId).toEqual({ c1: AGENT_ROUTE, c2: container().address });
  });

  it('derives an agent route secret from the shared key, and asks the local host for others', async () => {
    const routes = new HostRoutes({
      localHosts: ['h1'],
      secretKey: 'shared',
      local: {
        runtimeSecret: async () => 'pod-secret',
        logs: () => undefined as never,
        state: async () => null,
      },
    });
    expect(await routes.runtimeSecret(AGENT_ROUTE)).toBe(
      derivedRuntimeSecret('shared', 'gust_pool_guest_hello_1'),
    );
    expect(await routes.runtimeSecret(AGENT_ROUTE)).not.toBe(
      derivedRuntimeSecret('other', 'gust_pool_guest_hello_1'),
    );
    expect(await routes.runtimeSecret('http://127.0.0.1:21000')).toBe('pod-secret');
  });
});

describe('agent endpoint', () => {
  const SECRET = 'the-container-secret';
  let dir: string;
  let runtime: Server;
  let endpoint: RunningAgentEndpoint;
  const calls: { url?: string; secret?: string; body: string }[] = [];
  let goneDirExists = true;
  const hosted: HostedContainers = {
    runtimeOf: async (name) => {
      if (name === 'owned') return { socketPath: join(dir, 'runtime.sock'), secret: SECRET };
      if (name === 'gone' && goneDirExists) return { socketPath: join(dir, 'gone.sock'), secret: SECRET };
      return undefined;
    },
    ownContainerId: async (name) => (name === 'owned' ? 'id-owned' : undefined),
    state: async () => ({ running: false, exitCode: 137, oomKilled: true }),
    followRawLogs: async () => Readable.from([]),
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gust-endpoint-'));
    runtime = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        calls.push({ url: req.url, secret: req.headers[SECRET_HEADER] as string | undefined, body });
        if (body.includes('hang up')) return req.socket.destroy();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echoed: JSON.parse(body) }));
      });
    });
    await new Promise<void>((resolve) => runtime.listen(join(dir, 'runtime.sock'), resolve));
    endpoint = await startAgentEndpoint({
      containers: hosted,
      host: '127.0.0.1',
      port: 0,
      log: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await endpoint.close();
    await new Promise<void>((resolve) => runtime.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, headers: Record<string, string>, body = '{"value":{}}') =>
    fetch(`${endpoint.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('relays /init and /run of a container it owns, with its secret, to its runtime', async () => {
    calls.length = 0;
    const reply = await post('/containers/owned/run', { [SECRET_HEADER]: SECRET }, '{"value":{"x":1}}');
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ echoed: { value: { x: 1 } } });
    expect(calls).toEqual([{ url: '/run', secret: SECRET, body: '{"value":{"x":1}}' }]);
  });

  it.each([
    ['no secret', '/containers/owned/run', {}],
    ['a wrong secret', '/containers/owned/init', { [SECRET_HEADER]: 'guess' }],
    ['a container it does not own', '/containers/other/run', { [SECRET_HEADER]: SECRET }],
  ])('refuses %s with 401, and the runtime never hears of it', async (_, path, headers) => {
    calls.length = 0;
    const reply = await post(path, headers);
    expect(reply.status).toBe(401);
    expect(await reply.json()).toEqual({ error: 'unknown container or wrong runtime secret' });
    expect(calls).toEqual([]);
  });

  it.each([
    ['/containers/owned/exec', 'POST'],
    ['/containers/owned/run/../../x', 'POST'],
    ['/containers/..%2Fowned/run', 'POST'],
    ['/v1.41/containers/json', 'GET'],
    ['/containers/owned/run', 'GET'],
  ])('answers anything but its four routes with 404: %s %s', async (path, method) => {
    const reply = await fetch(`${endpoint.url}${path}`, { method, headers: { [SECRET_HEADER]: SECRET } });
    expect(reply.status).toBe(404);
  });

  it('a runtime that is gone from the host is dropped, not served from memory', async () => {
    // Its directory is still there, its socket is not: a connection error, as on the socket.
    const client = new RuntimeClient({ secrets: { runtimeSecret: async () => SECRET } });
    const run = { value: {}, namespace: 'n', action_name: 'a', activation_id: 'x', deadline: '0' };
    expect(await client.run(`${endpoint.url}/containers/gone`, run, 5000)).toMatchObject({
      outcome: 'connection-error',
    });
    await client.closeAll();
    goneDirExists = false; // the agent removed the container and its directory
    expect((await post('/containers/gone/run', { [SECRET_HEADER]: SECRET })).status).toBe(401);
  });

  it('serves the state of its own container, only with its secret', async () => {
    const denied = await fetch(`${endpoint.url}/containers/owned/state`);
    expect(denied.status).toBe(401);
    const reply = await fetch(`${endpoint.url}/containers/owned/state?awaitExitMs=5`, {
      headers: { [SECRET_HEADER]: SECRET },
    });
    expect(await reply.json()).toEqual({ state: { running: false, exitCode: 137, oomKilled: true } });
  });

  it("a runtime that hangs up drops the controller's connection: a connection error, as on the socket", async () => {
    const client = new RuntimeClient({ secrets: { runtimeSecret: async () => SECRET } });
    const run = {
      value: { say: 'hang up' },
      namespace: 'n',
      action_name: 'a',
      activation_id: 'x',
      deadline: '0',
    };
    const result = await client.run(`${endpoint.url}/containers/owned`, run, 5000);
    expect(result.outcome).toBe('connection-error');
    const ok = await client.run(`${endpoint.url}/containers/owned`, { ...run, value: {} }, 5000);
    expect(ok).toMatchObject({ outcome: 'response', status: 200 });
    await client.closeAll();
  });
});

describe('configuration', () => {
  const withEnv = (vars: Record<string, string>, read: () => unknown): unknown => {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      return read();
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  };

  it('advertises the configured URL, else the bound one, never an any-interface address', () => {
    const bound = 'http://127.0.0.1:9470';
    expect(advertisedUrl({ host: '127.0.0.1', port: 9470 }, bound)).toBe(bound);
    expect(
      advertisedUrl({ host: '0.0.0.0', port: 9470, advertiseUrl: 'http://127.0.0.2:9470/' }, bound),
    ).toBe('http://127.0.0.2:9470');
    expect(() => advertisedUrl({ host: '0.0.0.0', port: 9470 }, 'http://0.0.0.0:9470')).toThrow(
      'set GUST_AGENT_ADVERTISE_URL',
    );
  });

  it('has no agent endpoint and no local-hosts list by default (single host)', () => {
    const config = loadConfig();
    expect(config.agent.endpoint).toBeUndefined();
    expect(config.controller.localHosts).toBeUndefined();
  });

  it('reads the endpoint, its advertised URL and the local hosts', () => {
    expect(
      withEnv(
        {
          GUST_AGENT_ENDPOINT_PORT: '9470',
          GUST_AGENT_ADVERTISE_URL: 'http://127.0.0.1:9470',
          GUST_LOCAL_HOSTS: 'h1, h2',
        },
        () => {
          const config = loadConfig();
          return { endpoint: config.agent.endpoint, localHosts: config.controller.localHosts };
        },
      ),
    ).toEqual({
      endpoint: { host: '127.0.0.1', port: 9470, advertiseUrl: 'http://127.0.0.1:9470' },
      localHosts: ['h1', 'h2'],
    });
    expect(withEnv({ GUST_LOCAL_HOSTS: 'none' }, () => loadConfig().controller.localHosts)).toEqual([]);
  });
});
