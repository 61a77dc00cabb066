// The Knative backend's hot path and scale from zero, against the same pods called without Gust,
// in the same run. Knative Serving is SIMULATED here (test/knative/serving-simulator.ts: its
// gateway stands in for Knative's ingress and activator); the pods are real, on the stack's
// kube-apiserver and kubelet. Samples alternate between the paths so both see the same machine.
//   warm       Gust blocking invoke (result=true) vs POST /run to the gateway with the Service's
//              Host vs POST /run to the pod's own port; c = 1, sequential
//   throughput Gust vs the gateway, closed loop of CONCURRENCY requests on one pod
//              (containerConcurrency = CONCURRENCY, max-scale 1)
//   cold       the revision scaled to zero, then one request: through Gust vs to the gateway
// Run alone: `node scripts/run-ts.js bench/knative.ts [--quick]`, writes
// bench/results/knative-<timestamp>.{json,md}; `npm run bench` runs it as phase 9.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { GUEST_API_KEY } from '../api/api-keys';
import { serviceName, serviceRuntimeSecret } from '../backends/knative/service-spec';
import type { GustConfig } from '../common/config';
import { RuntimeClient, type GatewayCall, type RunPayload } from '../runtimes/runtime-client';
import { startKnativeTestCluster } from '../test/knative/harness';
import { terminateStoppedScope } from '../test/temporal-leftovers';
import { startEmbeddedGust } from '../workers/embedded';
import { installTemporalRuntime } from '../workers/temporal';
import type { Figure } from './lib/report';
import { embeddedBenchConfig } from './lib/embedded-config';
import { elapsedMs, formatTable, summarize, type Summary } from './lib/stats';

export interface KnativeBenchSettings {
  warmSamples: number;
  throughputMs: number;
  concurrency: number;
  coldSamples: number;
}

export const KNATIVE_QUICK: KnativeBenchSettings = {
  warmSamples: 100,
  throughputMs: 3000,
  concurrency: 4,
  coldSamples: 3,
};
export const KNATIVE_FULL: KnativeBenchSettings = {
  warmSamples: 400,
  throughputMs: 10_000,
  concurrency: 4,
  coldSamples: 6,
};

export interface KnativeBenchResult {
  settings: KnativeBenchSettings;
  loadBefore: number[];
  loadAfter: number[];
  warm: { gust: Summary; gateway: Summary; pod: Summary };
  throughput: { gustPerSecond: number; gatewayPerSecond: number; ratio: number };
  cold: { gust: Summary; gateway: Summary; ratio: number };
  table: string;
}

const AUTH = `Basic ${Buffer.from(GUEST_API_KEY).toString('base64')}`;
const CODE = 'function main(p) { return { n: p.n }; }';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function payload(n: number): RunPayload {
  return {
    value: { n },
    namespace: 'guest',
    action_name: '/guest/bench',
    activation_id: '0'.repeat(32),
    deadline: String(Date.now() + 60_000),
  };
}

export async function knativeBench(
  settings: KnativeBenchSettings,
  log: (line: string) => void = console.log,
): Promise<{ result: KnativeBenchResult; figures: Figure[] }> {
  const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
  const run = `kb${process.pid}`;
  // A short stable window: an idle revision goes to zero 2 s after its last request.
  const cluster = await startKnativeTestCluster(run, { stableWindowMs: 2000 });
  const base = embeddedBenchConfig({
    controllerId: run,
    stateDirPrefix: 'gust-bench-knative-',
    invocationsPerMinute: 1_000_000,
    concurrentInvocations: 1000,
  });
  const { stateDir } = base;
  const config: GustConfig = {
    ...base,
    agent: { ...base.agent, backend: 'knative', hostId: run },
    knative: { ...base.knative, namespace: cluster.namespace, gateway: cluster.simulator.gatewayUrl },
    pools: { ...base.pools, stemCells: [], keepAliveMs: 0 },
    observability: { ...base.observability, logLevel: 'warn' },
  };
  const gust = await startEmbeddedGust({ config, scope: { prefix: `${run}-` }, schedules: false, port: 0 });
  const runtime = new RuntimeClient();
  const api = `${gust.controller.url}/api/v1/namespaces/_/actions`;
  const gateway = cluster.simulator.gatewayUrl;
  /** Creates the action; answers how the gateway is called for its Service (Host and the pods' secret). */
  const put = async (name: string, limits: Record<string, number>): Promise<GatewayCall> => {
    const response = await request(`${api}/${name}`, {
      method: 'PUT',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ exec: { kind: 'nodejs:20', code: CODE }, limits }),
    });
    if (response.statusCode !== 200)
      throw new Error(`create ${name}: ${response.statusCode} ${await response.body.text()}`);
    await response.body.dump();
    const service = serviceName('guest', name);
    return {
      host: `${service}.${cluster.namespace}.example.com`,
      secret: serviceRuntimeSecret(config.agent.runtimeSecretKey, 'guest', name),
    };
  };
  const viaGust = async (name: string, n: number): Promise<void> => {
    const response = await request(`${api}/${name}?blocking=true&result=true`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ n }),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`invoke ${name}: ${response.statusCode} ${text}`);
  };
  const viaGateway = async (call: GatewayCall, n: number): Promise<string | undefined> => {
    const reply = await runtime.run(gateway, payload(n), 60_000, call);
    if (reply.outcome !== 'response' || reply.status !== 200)
      throw new Error(`gateway: ${JSON.stringify(reply)}`);
    return reply.pod;
  };
  const podsOf = async (service: string) =>
    (await cluster.pods()).filter(
      (p) => p.metadata?.labels?.['serving.knative.dev/service'] === service && !p.metadata.deletionTimestamp,
    );
  const untilZero = async (service: string): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while ((await podsOf(service)).length > 0) {
      if (Date.now() > deadline) throw new Error(`${service} did not scale to zero`);
      await sleep(200);
    }
  };

  try {
    // Warm, c = 1: one action, one pod; Gust, the gateway and the pod's own port in turn.
    const warmName = `${run}-warm`;
    const warmCall = await put(warmName, { memory: 256, concurrency: settings.concurrency });
    await viaGust(warmName, 0); // creates the Service and its first pod
    // The pod itself: the one that answered the gateway just before (the runtime names it).
    const ports = new Map<string, string>();
    const podUrl = async (pod: string | undefined): Promise<string> => {
      if (pod === undefined) throw new Error('the gateway reply names no pod');
      if (!ports.has(pod)) {
        const found = (await podsOf(serviceName('guest', warmName))).find((p) => p.metadata?.name === pod);
        const port = found?.spec?.containers[0]?.env?.find((e) => e.name === 'PORT')?.value;
        if (!port) throw new Error(`pod ${pod} has no PORT`);
        ports.set(pod, port);
      }
      return `http://127.0.0.1:${ports.get(pod)}`;
    };
    const samples = { gust: [] as number[], gateway: [] as number[], pod: [] as number[] };
    log(`knative warm: ${settings.warmSamples} samples per path`);
    for (let i = 0; i < settings.warmSamples + 10; i++) {
      const keep = i >= 10; // the first 10 warm up each path
      let t = process.hrtime.bigint();
      await viaGust(warmName, i);
      if (keep) samples.gust.push(elapsedMs(t));
      t = process.hrtime.bigint();
      const pod = await viaGateway(warmCall, i);
      if (keep) samples.gateway.push(elapsedMs(t));
      const url = await podUrl(pod);
      t = process.hrtime.bigint();
      const direct = await runtime.run(url, payload(i), 60_000, { secret: warmCall.secret });
      if (direct.outcome !== 'response' || direct.status !== 200)
        throw new Error(`pod: ${JSON.stringify(direct)}`);
      if (keep) samples.pod.push(elapsedMs(t));
    }

    // Throughput: a closed loop of `concurrency` callers for throughputMs, Gust then the gateway.
    const closedLoop = async (call: (n: number) => Promise<void>): Promise<number> => {
      let done = 0;
      const end = Date.now() + settings.throughputMs;
      const t = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: settings.concurrency }, async () => {
          while (Date.now() < end) await call(done++);
        }),
      );
      return done / (elapsedMs(t) / 1000);
    };
    log(`knative throughput: ${settings.concurrency} callers, ${settings.throughputMs} ms per path`);
    const gustPerSecond = await closedLoop((n) => viaGust(warmName, n));
    const gatewayPerSecond = await closedLoop(async (n) => {
      await viaGateway(warmCall, n);
    });

    // Cold: the same revision scaled to zero before every request, Gust and the gateway in turn.
    const coldName = `${run}-cold`;
    const coldCall = await put(coldName, { memory: 256, concurrency: 1 });
    await viaGust(coldName, 0);
    const coldService = serviceName('guest', coldName);
    const cold = { gust: [] as number[], gateway: [] as number[] };
    log(`knative cold (scale from zero): ${settings.coldSamples} samples per path`);
    for (let i = 0; i < settings.coldSamples; i++) {
      await untilZero(coldService);
      let t = process.hrtime.bigint();
      await viaGust(coldName, i);
      cold.gust.push(elapsedMs(t));
      await untilZero(coldService);
      t = process.hrtime.bigint();
      await viaGateway(coldCall, i);
      cold.gateway.push(elapsedMs(t));
    }

    const warm = {
      gust: summarize(samples.gust),
      gateway: summarize(samples.gateway),
      pod: summarize(samples.pod),
    };
    const coldSummary = { gust: summarize(cold.gust), gateway: summarize(cold.gateway) };
    const table = formatTable([
      ['warm: Gust blocking invoke', warm.gust],
      ['warm: gateway (simulated ingress) → pod', warm.gateway],
      ['warm: pod /run directly', warm.pod],
      ['cold from zero: Gust', coldSummary.gust],
      ['cold from zero: gateway (activator buffers)', coldSummary.gateway],
    ]);
    const result: KnativeBenchResult = {
      settings,
      loadBefore,
      loadAfter: loadavg().map((l) => Number(l.toFixed(2))),
      warm,
      throughput: { gustPerSecond, gatewayPerSecond, ratio: gustPerSecond / gatewayPerSecond },
      cold: { ...coldSummary, ratio: coldSummary.gust.p50 / coldSummary.gateway.p50 },
      table,
    };
    return { result, figures: figuresOf(result) };
  } finally {
    await runtime.closeAll();
    await gust.stop();
    // Its Knative Service and hosts workflows would stay running with no worker (as the main stack's cleanup).
    await terminateStoppedScope(config, `${run}-`, 'benchmark over');
    await cluster.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function figuresOf(r: KnativeBenchResult): Figure[] {
  const ms = (n: number): number => Number(n.toFixed(3));
  return [
    {
      figure: 'knative warm added latency p50 (Gust − gateway)',
      value: ms(r.warm.gust.p50 - r.warm.gateway.p50),
      unit: 'ms',
      floor: ms(r.warm.gateway.p50),
      floorName: 'gateway → pod p50 (simulated Knative ingress)',
      ratio: ms(r.warm.gust.p50 / r.warm.gateway.p50),
    },
    {
      figure: 'knative warm p50, Gust / pod called directly',
      value: ms(r.warm.gust.p50),
      unit: 'ms',
      floor: ms(r.warm.pod.p50),
      floorName: 'pod /run p50',
      ratio: ms(r.warm.gust.p50 / r.warm.pod.p50),
    },
    {
      figure: `knative throughput, c = ${r.settings.concurrency}, Gust / gateway`,
      value: ms(r.throughput.gustPerSecond),
      unit: 'req/s',
      floor: ms(r.throughput.gatewayPerSecond),
      floorName: 'gateway req/s',
      ratio: ms(r.throughput.ratio),
    },
    {
      figure: 'knative cold start from zero p50, Gust / gateway',
      value: ms(r.cold.gust.p50),
      unit: 'ms',
      floor: ms(r.cold.gateway.p50),
      floorName: 'gateway (activator) p50',
      ratio: ms(r.cold.ratio),
    },
  ];
}

export function knativeMarkdown(r: KnativeBenchResult): string {
  return [
    '# Knative backend (Knative Serving SIMULATED; real apiserver, kubelet and pods)',
    '',
    `${cpus().length} CPUs; load average ${r.loadBefore.join(' ')} before, ${r.loadAfter.join(' ')} after.`,
    'Gust runs in this process, as does the load; samples alternate between the paths.',
    '',
    '```',
    r.table,
    '```',
    '',
    `Warm p50: Gust ${r.warm.gust.p50.toFixed(2)} ms, gateway ${r.warm.gateway.p50.toFixed(2)} ms, pod ${r.warm.pod.p50.toFixed(2)} ms ` +
      `(Gust / gateway ×${(r.warm.gust.p50 / r.warm.gateway.p50).toFixed(2)}, added ${(r.warm.gust.p50 - r.warm.gateway.p50).toFixed(2)} ms).`,
    `Throughput at c = ${r.settings.concurrency}: Gust ${r.throughput.gustPerSecond.toFixed(0)}/s, gateway ${r.throughput.gatewayPerSecond.toFixed(0)}/s (×${r.throughput.ratio.toFixed(2)}).`,
    `Cold from zero p50: Gust ${r.cold.gust.p50.toFixed(0)} ms, gateway ${r.cold.gateway.p50.toFixed(0)} ms (×${r.cold.ratio.toFixed(2)}).`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  installTemporalRuntime();
  const quick = process.argv.includes('--quick');
  const { result } = await knativeBench(quick ? KNATIVE_QUICK : KNATIVE_FULL);
  const markdown = knativeMarkdown(result);
  // A benchmark's progress and report are for the human at the terminal: plain stdout, not the log.
  console.log(markdown);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `knative-${stamp}.json`), JSON.stringify(result, null, 2));
  writeFileSync(join(dir, `knative-${stamp}.md`), markdown);
}

// Run directly (node, or scripts/run-ts.js, which sets argv[1] to this file), not when the suite imports it.
if (require.main === module || process.argv[1] === __filename) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
