// The Knative backend's Service lifecycle against the real Kubernetes control plane, with the
// Knative Serving SIMULATOR (test/knative/serving-simulator.ts) in place of Knative's own
// controllers: create → Ready → invoke through the gateway by Host; update → the new revision
// serves and the old one drains; scale from zero buffers and answers; a Service that never
// becomes Ready says why; delete leaves no Service or pod behind.
import { execFileSync } from 'node:child_process';
import {
  KnativeServiceNotReady,
  KnativeServices,
  type AppliedService,
} from '../../backends/knative/services';
import { KnativePods } from '../../backends/knative/pods';
import { serviceName } from '../../backends/knative/service-spec';
import type { Action } from '../../common/types';
import { NODEJS_RUNTIME_IMAGE } from '../../runtimes/nodejs/runtime-entry';
import { RuntimeClient, type RuntimeCallResult } from '../../runtimes/runtime-client';
import {
  describeKnative,
  eventually,
  kubeconfig,
  startKnativeTestCluster,
  type KnativeTestCluster,
} from '../knative/harness';

jest.setTimeout(180_000);

const REVISION = 'serving.knative.dev/revision';
const client = new RuntimeClient();

function action(name: string, version: string, code: string, limits: Partial<Action['limits']> = {}): Action {
  return {
    namespace: `kn${process.pid}`,
    name,
    version,
    exec: { kind: 'nodejs:20', code },
    parameters: [],
    annotations: [],
    limits: { timeout: 10_000, memory: 128, logs: 10, concurrency: 1, ...limits },
    publish: false,
    updated: Date.now(),
  };
}

const OPTIONS = {
  image: NODEJS_RUNTIME_IMAGE,
  imagePullPolicy: 'Never' as const,
  apiHost: 'http://127.0.0.1:3233',
  minScale: 0,
  keepAliveMs: 0,
  maxScale: 3,
};

function body(result: RuntimeCallResult): { status: number; body: unknown } {
  if (result.outcome !== 'response') throw new Error(`expected a response, got ${JSON.stringify(result)}`);
  return { status: result.status, body: JSON.parse(result.text) as unknown };
}

describeKnative('Knative Services on the real apiserver, Knative Serving simulated', () => {
  let cluster: KnativeTestCluster;
  let services: KnativeServices;

  beforeAll(async () => {
    execFileSync('bash', ['scripts/stack/stack.sh', 'start', 'knative'], { stdio: 'inherit' });
    cluster = await startKnativeTestCluster('backend', { stableWindowMs: 2000 });
    services = new KnativeServices({ kubeconfig, namespace: cluster.namespace });
  }, 600_000);

  afterAll(async () => {
    await client.closeAll();
    await cluster?.close();
  });

  const run = (host: string, value: unknown, timeoutMs = 30_000, secret?: string) =>
    client.run(
      cluster.simulator.gatewayUrl,
      {
        value,
        namespace: 'guest',
        action_name: '/guest/x',
        activation_id: '0'.repeat(32),
        deadline: String(Date.now() + timeoutMs),
      },
      timeoutMs,
      { host, secret },
    );
  const revisionPods = async (revision: string) =>
    (await cluster.pods()).filter((p) => p.metadata?.labels?.[REVISION] === revision);

  it('creates a Service that becomes Ready and answers /run through the gateway by Host, without /init', async () => {
    const v1 = action('hello', '0.0.1', 'function main(p) { return { greeting: "hello " + p.name }; }');
    const applied = await services.apply(v1, OPTIONS);
    const ready = await services.waitReady(applied, { timeoutMs: 60_000 });
    expect(ready.revision).toBe(`${applied.name}-00001`);
    expect(ready.host).toBe(`${applied.name}.${cluster.namespace}.example.com`);
    expect(body(await run(ready.host, { name: 'ann' }))).toEqual({
      status: 200,
      body: { greeting: 'hello ann' },
    });
    // Applying the same version again changes nothing.
    expect(await services.apply(v1, OPTIONS)).toEqual(applied);
    // A host the gateway does not know is not routed anywhere.
    const unknown = await run(`nothing.${cluster.namespace}.example.com`, {});
    expect(unknown.outcome === 'response' && unknown.status).toBe(404);
  });

  it('pods given a runtime secret refuse every call through the gateway that does not carry it', async () => {
    const secret = 'a-secret-of-this-service';
    const guarded = action('guarded', '0.0.1', 'function main(p) { return { n: p.n }; }');
    const ready = await services.waitReady(
      await services.apply(guarded, { ...OPTIONS, runtimeSecret: secret }),
      { timeoutMs: 60_000 },
    );
    expect(body(await run(ready.host, { n: 1 }, 30_000, secret))).toEqual({ status: 200, body: { n: 1 } });
    for (const wrong of [undefined, 'another-secret']) {
      const refused = await run(ready.host, { n: 2 }, 30_000, wrong);
      expect(refused.outcome === 'response' && refused.status).toBe(401);
    }
  });

  it('rolls an update to a new revision that serves, while the old one drains and goes', async () => {
    const v1 = action(
      'rolling',
      '0.0.1',
      'function main() { return new Promise((r) => setTimeout(() => r({ v: 1 }), 1500)); }',
    );
    const first = await services.waitReady(await services.apply(v1, OPTIONS), { timeoutMs: 60_000 });
    // In flight on the old revision while the update rolls out.
    const slow = run(first.host, {});
    await eventually(async () => ((await revisionPods(first.revision)).length > 0 ? true : undefined));
    const v2 = action('rolling', '0.0.2', 'function main() { return { v: 2 }; }');
    const applied = await services.apply(v2, OPTIONS);
    expect(applied.generation).toBe(2);
    const second = await services.waitReady(applied, { timeoutMs: 60_000 });
    expect(second.revision).not.toBe(first.revision);
    expect(body(await run(second.host, {}))).toEqual({ status: 200, body: { v: 2 } });
    expect(body(await slow)).toEqual({ status: 200, body: { v: 1 } });
    await eventually(
      async () => ((await revisionPods(first.revision)).length === 0 ? true : undefined),
      60_000,
      'old revision drained',
    );
  });

  it('scales an idle revision to zero, then buffers a request until a pod is up and answers it', async () => {
    const v1 = action('sleeper', '0.0.1', 'function main(p) { return { n: p.n }; }');
    const ready = await services.waitReady(await services.apply(v1, OPTIONS), { timeoutMs: 60_000 });
    await eventually(
      async () => ((await revisionPods(ready.revision)).length === 0 ? true : undefined),
      60_000,
      'scaled to zero',
    );
    const answers = await Promise.all([1, 2, 3].map((n) => run(ready.host, { n })));
    expect(answers.map((a) => body(a).body)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect((await revisionPods(ready.revision)).length).toBeGreaterThan(0);
  });

  it('never lets a pod take more than containerConcurrency requests at once', async () => {
    const code = `let running = 0, most = 0;
      function main() { running++; most = Math.max(most, running);
        return new Promise((r) => setTimeout(() => { running--; r({ most }); }, 300)); }`;
    const v1 = action('narrow', '0.0.1', code, { concurrency: 2 });
    const ready = await services.waitReady(await services.apply(v1, { ...OPTIONS, maxScale: 1 }), {
      timeoutMs: 60_000,
    });
    const answers = await Promise.all(Array.from({ length: 6 }, () => run(ready.host, {})));
    const most = answers.map((a) => (body(a).body as { most: number }).most);
    expect(Math.max(...most)).toBe(2);
  });

  it('the pod that answered names itself; its pods/log holds the activation; an OOM kill shows on the Service', async () => {
    const code = `function main(p) {
      if (p.hoard) { const h = []; for (;;) h.push(Buffer.alloc(8 * 1024 * 1024, 1)); }
      console.log("line of " + p.n); return { n: p.n }; }`;
    const v1 = action('named', '0.0.1', code, { memory: 128 });
    const ready = await services.waitReady(await services.apply(v1, { ...OPTIONS, maxScale: 1 }), {
      timeoutMs: 60_000,
    });
    const first = await run(ready.host, { n: 1 });
    const pod = first.outcome === 'response' ? first.pod : undefined;
    expect((await revisionPods(ready.revision)).map((p) => p.metadata?.name)).toEqual([pod]);
    const pods = new KnativePods({ kubeconfig, namespace: cluster.namespace });
    const reader = pods.logs(pod!);
    try {
      const read = () => reader.next({ limitBytes: 1 << 20, waitMs: 20_000, sentinels: true });
      expect((await read()).join('\n')).toContain('line of 1');
      await run(ready.host, { n: 2 });
      const second = await read();
      expect(second.join('\n')).toContain('line of 2');
      expect(second.join('\n')).not.toContain('line of 1');
    } finally {
      reader.close();
    }
    const since = Date.now();
    expect(await pods.oomKilled(serviceName(v1.namespace, v1.name), since, 0)).toBe(false);
    const killed = await run(ready.host, { hoard: true });
    expect(killed.outcome === 'response' && killed.status).toBe(502);
    expect(await pods.oomKilled(serviceName(v1.namespace, v1.name), since, 10_000)).toBe(true);
  });

  it('reports a Service whose image does not exist as failed, with Knative’s reason', async () => {
    const broken = action('broken', '0.0.1', 'function main() { return {}; }');
    const applied: AppliedService = await services.apply(broken, {
      ...OPTIONS,
      image: 'gust/no-such-image:1',
    });
    const error = await services.waitReady(applied, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnativeServiceNotReady);
    expect((error as KnativeServiceNotReady).failed).toBe(true);
    expect((error as Error).message).toMatch(/RevisionFailed.*ErrImageNeverPull/);
  });

  it('deletes the Service, its code ConfigMap and every pod', async () => {
    const big = action(
      'big',
      '0.0.1',
      `function main() { return { size: ${40_000} }; } // ${'x'.repeat(40_000)}`,
    );
    const ready = await services.waitReady(await services.apply(big, OPTIONS), { timeoutMs: 60_000 });
    expect(body(await run(ready.host, {}))).toEqual({ status: 200, body: { size: 40_000 } });
    await services.delete(big.namespace, big.name);
    await eventually(
      async () => ((await revisionPods(ready.revision)).length === 0 ? true : undefined),
      60_000,
      'pods gone',
    );
    expect((await cluster.services()).map((s) => s.metadata.name)).not.toContain(
      ready.revision.replace(/-\d+$/, ''),
    );
    const maps = await cluster.core.listNamespacedConfigMap({ namespace: cluster.namespace });
    expect(
      maps.items.filter(
        (m: { metadata?: { labels?: Record<string, string> } }) => m.metadata?.labels?.['io.gust.service'],
      ),
    ).toEqual([]);
  });
});
