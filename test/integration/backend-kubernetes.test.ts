// The kubernetes backend against the stack's real cluster (apiserver, scheduler, kubelet with
// containerd): pods, readiness, logs per activation, OOM, failures, and reconcile replacing a pod
// deleted behind Gust's back (the apiserver restart is in test/faults/). Every pod carries
// this file's own host id, and none may be left at the end.
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../common/names';
import type { ContainerEvent } from '../../backends/backend';
import { CONTAINER_MESSAGES, describeContainerDeath } from '../../backends/container-errors';
import { ACTIVATION_LOG_SENTINEL } from '../../backends/logs/activation-log-collector';
import type { KubernetesBackend } from '../../backends/kubernetes/backend';
import { podName, runtimeSecretOf } from '../../backends/kubernetes/spec';
import { SECRET_HEADER } from '../../runtimes/nodejs/src/runtime-secret';
import { NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';
import { RuntimeClient } from '../../runtimes/runtime-client';
import { runPayload, specsFor } from './backend-fixtures';
import { createHarness, testAction, testConfig, waitFor, type ControlPathHarness } from './control-harness';
import {
  ACTIONS_NAMESPACE,
  adminApi,
  describeKubernetes,
  podsOfHost,
  secretClient,
  suiteBackend,
  testBackend,
} from './kubernetes-harness';
import { testRun } from '../run-names';

jest.setTimeout(180_000);

const { id: RUN, prefix: PREFIX, namespace: NS } = testRun('ck8s');
const HOST = `cluster.test-k8s-${RUN}`;
const OWNER = `test-backend-kubernetes-${RUN}`;
const api = adminApi();
const client = secretClient(() => backend);
let backend: KubernetesBackend;

const spec = specsFor(OWNER, 128);

const init = (address: string, code: string) =>
  client.init(address, { value: { name: 't', main: 'main', code, binary: false } }, 10_000);

const readPod = (name: string): Promise<V1Pod> =>
  api.readNamespacedPod({ name, namespace: ACTIONS_NAMESPACE });

describeKubernetes('kubernetes backend', () => {
  const suite = suiteBackend(HOST, client);
  beforeAll(() => {
    backend = suite();
  });

  it('creates a pod with Gust labels and memory limits on a loopback host port, serves, lists and destroys it', async () => {
    const s = spec({
      memoryMB: 256,
      env: { FOO: 'bar' },
      labels: { [LABELS.owner]: OWNER, [LABELS.namespace]: 'guest/pkg' },
    });
    const info = await backend.create(s);
    expect(info).toMatchObject({
      id: podName(s.name),
      name: s.name,
      backend: 'kubernetes',
      host: HOST,
      kind: NODEJS_RUNTIME_KIND,
      memoryMB: 256,
    });
    expect(info.address).toMatch(/^http:\/\/127\.0\.0\.1:21\d{3}$/);
    const pod = await readPod(info.id);
    expect(pod.spec).toMatchObject({ hostNetwork: true, restartPolicy: 'Never', nodeName: 'gust-node' });
    expect(pod.spec?.containers[0]?.resources).toEqual({
      requests: { memory: '256Mi' },
      limits: { memory: '256Mi' },
    });
    expect(pod.metadata?.labels).toMatchObject({
      [LABELS.managed]: 'true',
      [LABELS.host]: HOST,
      [LABELS.memory]: '256',
      [LABELS.owner]: OWNER,
    });
    // Values Kubernetes refuses as labels (`nodejs:20`, `guest/pkg`) are kept exactly all the same.
    expect(info.labels).toMatchObject({ [LABELS.kind]: 'nodejs:20', [LABELS.namespace]: 'guest/pkg' });
    expect((await backend.list({ [LABELS.namespace]: 'guest/pkg' })).map((c) => c.id)).toEqual([info.id]);

    await init(info.address, 'function main(p) { return { got: p.x, foo: process.env.FOO }; }');
    const run = await client.run(info.address, { ...runPayload, value: { x: 1 } }, 10_000);
    expect(run).toMatchObject({ outcome: 'response', status: 200 });
    expect(JSON.parse((run as { text: string }).text)).toEqual({ got: 1, foo: 'bar' });

    await client.close(info.address);
    await backend.destroy(info.id);
    await expect(readPod(info.id)).rejects.toMatchObject({ code: 404 });
    expect(await backend.state(info.id)).toBeNull();
    await backend.destroy(info.id); // gone already: still fine
  });

  it('is idempotent by name, also when two creates race, and gives each pod its own port', async () => {
    const same = spec();
    const [a, b] = await Promise.all([backend.create(same), backend.create(same)]);
    expect(b).toMatchObject({ id: a.id, address: a.address });
    const other = await backend.create(spec());
    expect(other.address).not.toBe(a.address);
    expect(runtimeSecretOf(await readPod(a.id))).not.toBe(runtimeSecretOf(await readPod(other.id)));
    expect((await backend.list({ [LABELS.owner]: OWNER })).map((c) => c.id).sort()).toEqual(
      [a.id, other.id].sort(),
    );
    await Promise.all([backend.destroy(a.id), backend.destroy(other.id)]);
  });

  it('gives each runtime its own secret: refused without it on its loopback port, never seen by the action', async () => {
    const info = await backend.create(spec());
    const pod = await readPod(info.id);
    const secret = runtimeSecretOf(pod)!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // By configuration: only the init container that writes it to /gust holds it; the runtime
    // container is told the file's path.
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(['secret']);
    expect(JSON.stringify(pod.spec?.containers)).not.toContain(secret);
    expect(pod.spec?.containers[0]?.env).toContainEqual({
      name: 'GUST_RUNTIME_SECRET_FILE',
      value: '/gust/secret',
    });

    // On the pod's loopback port: no secret, or a wrong one, is refused on /init and on /run.
    const bare = new RuntimeClient();
    const payload = {
      value: { name: 't', main: 'main', code: 'function main() { return {}; }', binary: false },
    };
    expect(await bare.init(info.address, payload, 10_000)).toMatchObject({
      outcome: 'response',
      status: 401,
    });
    expect(await bare.run(info.address, runPayload, 10_000)).toMatchObject({
      outcome: 'response',
      status: 401,
    });
    await bare.closeAll();
    for (const path of ['/init', '/run']) {
      const wrong = await fetch(`${info.address}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SECRET_HEADER]: `${secret.slice(1)}x` },
        body: JSON.stringify(payload),
      });
      expect(wrong.status).toBe(401);
    }

    // With it: the action runs, and finds the secret neither in its environment nor on its disk.
    await init(
      info.address,
      `function main() {
        const fs = require('fs');
        return { env: process.env, environ: fs.readFileSync('/proc/self/environ', 'utf8'), gust: fs.readdirSync('/gust') };
      }`,
    );
    const run = await client.run(info.address, runPayload, 10_000);
    expect(run).toMatchObject({ outcome: 'response', status: 200 });
    const seen = JSON.parse((run as { text: string }).text) as {
      env: Record<string, string>;
      environ: string;
      gust: string[];
    };
    expect(seen.gust).toEqual([]);
    expect(seen.env.GUST_RUNTIME_SECRET_FILE).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(secret);
    await client.close(info.address);
    await backend.destroy(info.id);
  });

  it('splits the pod log per activation at the sentinels, through pods/log', async () => {
    const info = await backend.create(spec());
    const logs = backend.logs(info);
    await init(
      info.address,
      'function main(p) { console.log("out " + p.n); console.error("err " + p.n); return {}; }',
    );
    // Each activation's lines are read before the next run: the kubelet reads stdout and stderr
    // apart, so a run started at once can reach the merged log before the last one's stderr
    // (backends/kubernetes/pod-logs.ts, CI 2026-12-02).
    const collected: string[][] = [];
    for (const n of [1, 2]) {
      const run = await client.run(info.address, { ...runPayload, value: { n } }, 10_000);
      expect(run).toMatchObject({ outcome: 'response', status: 200 });
      collected.push(await logs.next({ limitBytes: 10_000, waitMs: 10_000 }));
    }
    const [first, second] = collected;
    for (const [lines, n] of [
      [first!, 1],
      [second!, 2],
    ] as const) {
      expect(lines).toHaveLength(2);
      expect(lines.join('\n')).toContain(`out ${n}`);
      expect(lines.join('\n')).toContain(`err ${n}`);
      expect(lines.join('\n')).not.toContain(ACTIVATION_LOG_SENTINEL);
      for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s+std(out|err): /);
    }
    logs.close();
    await client.close(info.address);
    await backend.destroy(info.id);
  });

  it('reports an action that exhausts 128 MB as OOM: connection error, state, events, message', async () => {
    const events: ContainerEvent[] = [];
    const unsubscribe = backend.onEvent((event) => events.push(event));
    const info = await backend.create(spec({ memoryMB: 128 }));
    await init(
      info.address,
      `function main() { const hoard = []; for (;;) hoard.push(Buffer.alloc(8 * 1024 * 1024, 1)); }`,
    );
    const run = await client.run(info.address, runPayload, 60_000);
    expect(run.outcome).toBe('connection-error');
    const state = await backend.state(info.id, { awaitExitMs: 20_000 });
    expect(state).toEqual({ running: false, exitCode: 137, oomKilled: true });
    expect(describeContainerDeath(state, 'run')).toBe(CONTAINER_MESSAGES.memoryExhausted);
    await waitFor('the exit event', () => events.some((e) => e.containerId === info.id && e.type === 'exit'));
    expect(events.filter((e) => e.containerId === info.id)).toEqual([
      { type: 'oom', containerId: info.id },
      { type: 'exit', containerId: info.id, exitCode: 137 },
    ]);
    unsubscribe();
    await client.close(info.address);
    await backend.destroy(info.id);
  });

  it('reports a missing image as a developer error and leaves no pod', async () => {
    const s = spec({ image: 'gust/no-such-image:none', kind: 'blackbox' });
    await expect(backend.create(s)).rejects.toMatchObject({
      code: 'GUST_ERR_BACKEND_IMAGE_NOT_FOUND',
      developerError: true,
      message: expect.stringContaining(CONTAINER_MESSAGES.imageNotFound('gust/no-such-image:none')),
    });
    await expect(readPod(podName(s.name))).rejects.toMatchObject({ code: 404 });
  });

  it('a pod that never starts is a platform error after the ready timeout, and is deleted', async () => {
    const impatient = testBackend(HOST, { readyTimeoutMs: 10_000 });
    // More memory than the node has: the scheduler never places it.
    const s = spec({ memoryMB: 10_000_000 });
    await expect(impatient.create(s)).rejects.toMatchObject({
      code: 'GUST_ERR_BACKEND_START_FAILED',
      developerError: false,
      message: expect.stringMatching(/did not start within 10000 ms: .*Insufficient memory/),
    });
    await impatient.close();
    await expect(readPod(podName(s.name))).rejects.toMatchObject({ code: 404 });
  });
});

describeKubernetes('kubernetes backend under the control path (no agent)', () => {
  const CLUSTER = `cluster.${PREFIX}k8s`;
  let h: ControlPathHarness;
  let cluster: KubernetesBackend;

  beforeAll(async () => {
    h = await createHarness(PREFIX, testConfig({ leaseTimeoutMs: 3000 }));
    cluster = testBackend(CLUSTER);
    await h.startProvisioner({ cluster: { backend: cluster, hostId: CLUSTER, capacityMB: 2048 } });
  });

  afterAll(async () => {
    await h?.close();
    for (const container of (await cluster?.list({})) ?? []) await cluster.destroy(container.id);
    expect(await podsOfHost(api, CLUSTER)).toEqual([]);
    await cluster?.close();
  });

  it('the pool creates pods from the provisioner, and reconcile replaces a pod deleted behind Gust’s back', async () => {
    const c1 = (await h.startController('c1')).router;
    await h.controlPlane('c1').requestContainers(testAction(NS, 'k1'), 1);
    const [lease] = await waitFor(
      'a k1 lease',
      () => (c1.forAction('k1').length === 1 ? c1.forAction('k1') : null),
      60_000,
    );
    expect(lease!.container).toMatchObject({ backend: 'kubernetes', host: CLUSTER });
    // The runtime answered before the lease; the kubelet reports the pod Running soon after.
    await waitFor(
      'the leased pod Running',
      async () => (await readPod(lease!.container.id)).status?.phase === 'Running',
    );

    await api.deleteNamespacedPod({
      name: lease!.container.id,
      namespace: ACTIONS_NAMESPACE,
      gracePeriodSeconds: 0,
    });
    const replacement = await waitFor(
      'a replacement k1 lease',
      () => {
        const now = c1.forAction('k1');
        return now.length === 1 && now[0]!.container.id !== lease!.container.id ? now[0] : null;
      },
      60_000,
    );
    expect(c1.revoked).toContain(lease!.container.id);
    await waitFor(
      'the replacement pod Running',
      async () => (await readPod(replacement!.container.id)).status?.phase === 'Running',
    );
  });
});
