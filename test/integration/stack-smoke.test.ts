// Smoke test of the dev stack that scripts/stack/stack.sh starts: the real Temporal dev server,
// Cassandra node and dockerd on 127.0.0.1, reached the way Gust's own code reaches them.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client as CassandraClient, types } from 'cassandra-driver';
import { Agent, request } from 'undici';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import type { StackSmokeActivities } from './fixtures/stack-smoke-workflow';

const config = loadConfig();
const REPO = join(__dirname, '..', '..');

/** A task queue (and id prefix) named after the running test, so parallel runs never share one. */
function nameAfterTest(): string {
  const title = expect.getState().currentTestName ?? 'stack-smoke';
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}

describe('the dev stack', () => {
  test('a workflow with one activity round-trips on the Temporal server', async () => {
    const taskQueue = nameAfterTest();
    const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    const connection = await Connection.connect({ address: config.temporal.address });
    try {
      const activities: StackSmokeActivities = { greet: async (name) => `hello, ${name}` };
      const worker = await Worker.create({
        connection: nativeConnection,
        namespace: config.temporal.namespace,
        taskQueue,
        workflowsPath: require.resolve('./fixtures/stack-smoke-workflow'),
        activities,
      });
      const client = new TemporalClient({ connection, namespace: config.temporal.namespace });
      const result = await worker.runUntil(
        client.workflow.execute('stackSmokeWorkflow', {
          taskQueue,
          workflowId: `${taskQueue}/${randomUUID()}`,
          args: ['gust'],
          workflowExecutionTimeout: '60 seconds',
        }),
      );
      expect(result).toBe('hello, gust (via workflow)');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  }, 120_000);

  test('Cassandra stores a row and reads it back', async () => {
    const client = new CassandraClient({
      contactPoints: config.store.cassandraContactPoints,
      localDataCenter: 'datacenter1',
      protocolOptions: { port: 9042, maxVersion: types.protocolVersion.v4 },
    });
    try {
      await client.connect();
      // Schema changes are slow: create once (IF NOT EXISTS) and keep them across runs.
      await client.execute(
        "CREATE KEYSPACE IF NOT EXISTS gust_stack_smoke WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
      );
      await client.execute(
        'CREATE TABLE IF NOT EXISTS gust_stack_smoke.kv (k text PRIMARY KEY, v text, at timestamp)',
      );
      const key = randomUUID();
      const at = new Date();
      await client.execute(
        'INSERT INTO gust_stack_smoke.kv (k, v, at) VALUES (?, ?, ?) USING TTL 3600',
        [key, 'value', at],
        {
          prepare: true,
        },
      );
      const rows = await client.execute('SELECT v, at FROM gust_stack_smoke.kv WHERE k = ?', [key], {
        prepare: true,
      });
      expect(rows.rowLength).toBe(1);
      expect(rows.first().get('v')).toBe('value');
      expect((rows.first().get('at') as Date).getTime()).toBe(at.getTime());
    } finally {
      await client.shutdown();
    }
  }, 60_000);

  describe('dockerd', () => {
    const docker = new Agent({ connect: { socketPath: config.agent.dockerSocket } });
    const runId = randomUUID();
    const image = `gust-stack-smoke:${runId.slice(0, 8)}`;
    const labels = { [LABELS.managed]: 'true', [LABELS.owner]: `stack-smoke-${runId}` };
    const byOwner = encodeURIComponent(
      JSON.stringify({ label: [`${LABELS.owner}=${labels[LABELS.owner]}`] }),
    );
    let rootfs = '';

    /** One Engine API call over the unix socket; throws with Docker's message on an error status. */
    async function api<T = unknown>(
      method: 'GET' | 'POST' | 'DELETE',
      path: string,
      json?: unknown,
    ): Promise<T> {
      const res = await request(`http://docker${path}`, {
        dispatcher: docker,
        method,
        headers: json === undefined ? {} : { 'content-type': 'application/json' },
        body: json === undefined ? undefined : JSON.stringify(json),
      });
      const text = await res.body.text();
      if (res.statusCode >= 400) throw new Error(`docker ${method} ${path}: ${res.statusCode} ${text}`);
      return (res.headers['content-type'] === 'application/json' ? JSON.parse(text) : text) as T;
    }

    beforeAll(async () => {
      rootfs = await mkdtemp(join(tmpdir(), 'gust-stack-smoke-'));
      await run('bash', [join(REPO, 'scripts/stack/node-rootfs.sh'), rootfs]);
      await writeFile(
        join(rootfs, 'app', 'server.js'),
        `require('http').createServer((req, res) => {
           res.setHeader('content-type', 'application/json');
           res.end(JSON.stringify({ hello: 'from a container', url: req.url }));
         }).listen(8080, '0.0.0.0');`,
      );
      // The same as `tar -C rootfs -c . | docker import -`, through the Engine API.
      const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [repo, tag] = image.split(':') as [string, string];
      const res = await request(`http://docker/images/create?fromSrc=-&repo=${repo}&tag=${tag}`, {
        dispatcher: docker,
        method: 'POST',
        headers: { 'content-type': 'application/x-tar' },
        body: tar.stdout,
      });
      const progress = await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(progress).not.toContain('"error"');
    }, 120_000);

    afterAll(async () => {
      const left = await api<{ Id: string }[]>('GET', `/containers/json?all=1&filters=${byOwner}`);
      await Promise.all(left.map((c) => api('DELETE', `/containers/${c.Id}?force=true`)));
      await api('DELETE', `/images/${image}?force=true`).catch(() => undefined);
      await docker.close();
      if (rootfs) await rm(rootfs, { recursive: true, force: true });
    });

    test('runs a container published on 127.0.0.1, answers through it and removes it', async () => {
      const created = await api<{ Id: string }>('POST', `/containers/create?name=gust-stack-smoke-${runId}`, {
        Image: image,
        Cmd: ['/usr/local/bin/node', '/app/server.js'],
        Labels: labels,
        ExposedPorts: { '8080/tcp': {} },
        HostConfig: {
          // HostPort '' asks Docker for an ephemeral port; HostIp keeps it off other interfaces.
          PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
          Memory: 128 * 1024 * 1024,
        },
      });
      await api('POST', `/containers/${created.Id}/start`);

      const info = await api<{
        NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[]> };
      }>('GET', `/containers/${created.Id}/json`);
      const binding = info.NetworkSettings.Ports['8080/tcp']?.[0];
      expect(binding?.HostIp).toBe('127.0.0.1');
      const port = Number(binding?.HostPort);
      expect(port).toBeGreaterThan(0);

      const reply = await retry(async () => {
        const res = await request(`http://127.0.0.1:${port}/ping`);
        const body = await res.body.json();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        return body;
      });
      expect(reply).toEqual({ hello: 'from a container', url: '/ping' });

      await api('DELETE', `/containers/${created.Id}?force=true`);
      const left = await api<unknown[]>('GET', `/containers/json?all=1&filters=${byOwner}`);
      expect(left).toEqual([]);
    }, 60_000);
  });
});

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    );
  });
}

/** The server in the container takes a moment to listen after `start` returns. */
async function retry<T>(fn: () => Promise<T>, attempts = 50, delayMs = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
