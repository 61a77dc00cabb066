// The provisioner that holds the Mesos subscription is SIGKILLed mid-launch (the moment the
// SIMULATED master receives the ACCEPT). A new provisioner resumes the framework workflow: the
// subscription activity is retried there and re-subscribes with the same framework id, reconciles
// the launches whose outcome it never saw, and afterwards exactly the requested tasks exist.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { MesosBackend } from '../../backends/mesos/backend';
import { LABELS } from '../../common/names';
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';
import { mesosTasksQuery } from '../../workflows/mesos-messages';
import { startTestCluster, type TestCluster } from '../mesos/test-cluster';
import { createHarness, waitFor, type ControlPathHarness } from './control-harness';
import { testRun } from '../run-names';

jest.setTimeout(180_000);

const { id: RUN, prefix: PREFIX } = testRun('mcrash');
const ROOT = resolve(__dirname, '..', '..');
let h: ControlPathHarness;
let cluster: TestCluster;
let backend: MesosBackend;
const children: ChildProcess[] = [];
let crashOnAccept: ChildProcess | undefined;

function startProvisionerChild(): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'scripts', 'run-ts.js'),
      join(ROOT, 'test', 'mesos', 'provisioner-child.ts'),
      PREFIX,
      cluster.master.url,
      `crash-${RUN}`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  children.push(child);
  const ready = new Promise<void>((resolveReady, reject) => {
    child.on('message', (m: { ready?: boolean }) => m.ready && resolveReady());
    child.once('exit', (code) => reject(new Error(`provisioner child exited (${code}) before it was ready`)));
  });
  return { child, ready };
}

beforeAll(async () => {
  execFileSync('bash', ['runtimes/build-images.sh'], { stdio: 'inherit' });
  cluster = await startTestCluster(
    [
      { cpus: 2, memMB: 1024 },
      { cpus: 2, memMB: 1024 },
    ],
    {
      onCall: (call) => {
        if (call.type !== 'ACCEPT' || !crashOnAccept) return;
        crashOnAccept.kill('SIGKILL');
        crashOnAccept = undefined;
      },
    },
  );
  h = await createHarness(PREFIX);
  backend = new MesosBackend({
    client: h.client,
    scope: h.scope,
    hostId: `${PREFIX}cluster`,
    masterUrl: cluster.master.url,
  });
}, 300_000);

afterAll(async () => {
  for (const c of (await backend?.list({ [LABELS.managed]: 'true' }).catch(() => [])) ?? [])
    await backend.destroy(c.id).catch(() => undefined);
  for (const child of children) child.kill('SIGKILL');
  await backend?.close();
  await h?.close();
  await cluster?.close();
});

test('a provisioner killed mid-launch: the next one resumes the same framework and exactly the requested tasks exist', async () => {
  const first = startProvisionerChild();
  await first.ready;
  crashOnAccept = first.child;
  const names = [0, 1, 2].map((i) => `gust_crash_${RUN}_${i}`);
  const creates = names.map((name) =>
    backend.create({
      name,
      image: NODEJS_RUNTIME_IMAGE,
      kind: NODEJS_RUNTIME_KIND,
      memoryMB: 256,
      env: {},
      labels: {},
    }),
  );
  await waitFor(
    'the first provisioner killed at its ACCEPT',
    () => first.child.exitCode !== null || first.child.signalCode !== null,
    60_000,
  );
  const frameworkId = cluster.master.frameworks()[0]!.id;

  const second = startProvisionerChild();
  await second.ready;
  const infos = await Promise.all(creates);
  expect(infos.map((i) => i.id).sort()).toEqual(names.sort());

  const subscribes = cluster.master.calls.filter((c) => c.type === 'SUBSCRIBE');
  expect(subscribes.length).toBeGreaterThanOrEqual(2);
  expect(subscribes.at(-1)).toMatchObject({ framework_id: { value: frameworkId } });
  expect(cluster.master.frameworks()).toEqual([
    expect.objectContaining({ id: frameworkId, connected: true }),
  ]);
  expect(
    cluster.master
      .tasks()
      .map((t) => t.taskId)
      .sort(),
  ).toEqual(names.sort());
  expect((await cluster.master.containers()).sort()).toEqual(names.sort());
  const view = await h.client.workflow.getHandle(h.names.mesosFrameworkId).query(mesosTasksQuery);
  expect(view.frameworkId).toBe(frameworkId);
  expect(
    view.tasks
      .filter((t) => t.phase === 'running')
      .map((t) => t.spec.taskId)
      .sort(),
  ).toEqual(names.sort());
});
