// Docker agent killed mid-create: the agent runs in a child process with the docker backend and is
// SIGKILLed while a create is in progress (after the container exists, before the activity
// completes). Restarted, the retried create finds the container by its deterministic name: the
// pool ends with exactly the containers requested — no duplicates, no orphans.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DockerBackend } from '../../backends/docker/backend';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import { createHarness, testAction, testConfig, waitFor, type ControlPathHarness } from './control-harness';
import { testRun } from '../run-names';

jest.setTimeout(120_000);

const { prefix: PREFIX, namespace: NS } = testRun('ccrash');
const HOST_ID = `${PREFIX}d1`;
const SOCKET = loadConfig().agent.dockerSocket;
const ROOT = resolve(__dirname, '..', '..');

let h: ControlPathHarness;
let docker: DockerBackend;
let child: ChildProcess | undefined;

/** The agent as its own process: TypeScript through @swc/core, with an optional slow create. */
function agentScript(dir: string): string {
  const file = join(dir, 'agent-child.js');
  writeFileSync(
    file,
    `
const fs = require('node:fs');
const swc = require(${JSON.stringify(require.resolve('@swc/core'))});
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename, module: { type: 'commonjs' }, jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
  });
  module._compile(code, filename);
};
const { startAgent } = require(${JSON.stringify(join(ROOT, 'workers', 'agent.ts'))});
const { DockerBackend } = require(${JSON.stringify(join(ROOT, 'backends', 'docker', 'backend.ts'))});
const { installTemporalRuntime } = require(${JSON.stringify(join(ROOT, 'workers', 'temporal.ts'))});
const { createLogger } = require(${JSON.stringify(join(ROOT, 'common', 'logger.ts'))});
const { NativeConnection } = require('@temporalio/worker');
const { Client } = require('@temporalio/client');
installTemporalRuntime();
(async () => {
  const [prefix, hostId, socketPath, leaseTimeoutMs, slowMs] = process.argv.slice(2);
  const docker = new DockerBackend({ hostId, capacityMB: 4096, socketPath });
  const backend = Object.create(docker);
  // Methods that touch the backend's private fields run on the backend itself.
  for (const m of ['list', 'destroy', 'state', 'onEvent', 'health', 'close']) backend[m] = docker[m].bind(docker);
  backend.create = async (spec, options) => {
    const info = await docker.create(spec, options);
    process.send?.({ created: spec.name });
    await new Promise((r) => setTimeout(r, Number(slowMs)));
    return info;
  };
  const connection = await NativeConnection.connect({ address: '127.0.0.1:7233' });
  const client = new Client({ connection });
  // Two creates at once: the test kills the agent while both are in progress.
  const config = { agent: { hostId, capacityMB: 4096, backend: 'docker', dockerSocket: socketPath, maxConcurrentCreates: 2 },
    pools: { stemCells: [], keepAliveMs: 60000, scaleDownIntervalMs: 60000, reconcileIntervalMs: 60000, leaseTimeoutMs: Number(leaseTimeoutMs) } };
  await startAgent({ connection, client, backend, config, scope: { prefix } });
  process.send?.({ ready: true });
})().catch((err) => { createLogger('error').error({ err }, 'agent child failed'); process.exit(1); });
`,
  );
  return file;
}

function startAgentChild(
  script: string,
  slowMs: number,
): { child: ChildProcess; created: string[]; ready: Promise<void> } {
  const proc = spawn(process.execPath, [script, PREFIX, HOST_ID, SOCKET, '30000', String(slowMs)], {
    cwd: ROOT,
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const created: string[] = [];
  const ready = new Promise<void>((resolveReady, reject) => {
    proc.on('message', (m: { created?: string; ready?: boolean }) => {
      if (m.created) created.push(m.created);
      if (m.ready) resolveReady();
    });
    proc.once('exit', (code) => reject(new Error(`agent exited with ${code}`)));
  });
  ready.catch(() => undefined);
  return { child: proc, created, ready };
}

const owned = async (): Promise<string[]> =>
  (await docker.list({ [LABELS.managed]: 'true', [LABELS.host]: HOST_ID })).map((c) => c.name).sort();

beforeAll(async () => {
  h = await createHarness(
    PREFIX,
    testConfig({ leaseTimeoutMs: 30_000, scaleDownIntervalMs: 60_000, reconcileIntervalMs: 60_000 }),
  );
  docker = new DockerBackend({ hostId: HOST_ID, capacityMB: 4096, socketPath: SOCKET });
  await docker.health();
  await h.startProvisioner({ orphanGraceMs: 60_000 });
});

let scriptDir: string | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  await h?.recordHistories('agent-crash');
  await h?.close();
  for (const c of (await docker?.list({ [LABELS.host]: HOST_ID })) ?? []) await docker.destroy(c.id);
  await docker?.close();
});

test('killing the docker agent mid-create and restarting it ends with exactly the requested containers', async () => {
  scriptDir = mkdtempSync(join(tmpdir(), 'gust-agent-'));
  const script = agentScript(scriptDir);
  const first = startAgentChild(script, 60_000); // every create hangs after the container exists
  child = first.child;
  await first.ready;
  const { router } = await h.startController('c1');

  await h.controlPlane('c1').requestContainers(testAction(NS, 'crash'), 2);
  await waitFor(
    'both containers to exist while their creates are in progress',
    () => first.created.length === 2,
  );
  expect(router.forAction('crash')).toEqual([]);
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  const before = await owned();
  expect(before).toHaveLength(2);

  const second = startAgentChild(script, 0);
  child = second.child;
  await second.ready;
  // The retries run once the killed attempts miss their 10 s heartbeat timeout.
  const leases = await waitFor(
    'two leases after the restart',
    () => (router.forAction('crash').length === 2 ? router.forAction('crash') : null),
    60_000,
  );

  expect(await owned()).toEqual(before); // the same two containers: no duplicates, no orphans
  expect(leases.map((l) => l.container.name).sort()).toEqual(before);
  const inventory = await h.inventory(h.names.actionPoolId({ namespace: NS, name: 'crash' }));
  expect(inventory.containers.map((c) => c.state)).toEqual(['leased', 'leased']);
  second.child.kill('SIGKILL');
});
