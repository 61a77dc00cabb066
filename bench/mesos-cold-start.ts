// Cold start with a new Mesos task through Gust against the same launch made directly on the
// (SIMULATED) Mesos master, in the same run. Gust: a blocking invoke of a new action with no stem
// cells — pool workflow, framework workflow, offer, ACCEPT/LAUNCH, TASK_RUNNING, /init, /run.
// Directly: REVIVE → offer → ACCEPT/LAUNCH → TASK_RUNNING → runtime answers → /init → /run, with
// the scheduler API client alone. The two alternate, so both see the same machine.
//   node scripts/run-ts.js bench/mesos-cold-start.ts      (env: COLD=10)
// Prints a table and writes bench/results/mesos-cold-start-<timestamp>.{json,md}.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { GUEST_API_KEY } from '../api/api-keys';
import { MesosSchedulerApi } from '../backends/mesos/api';
import { portsOf, type Event, type Offer, type TaskStatus } from '../backends/mesos/protocol';
import { buildTaskInfo, cpusFor } from '../backends/mesos/spec';
import { waitForHttp } from '../backends/wait-for-http';
import type { GustConfig } from '../common/config';
import { NODEJS_RUNTIME_IMAGE } from '../runtimes/nodejs/runtime-entry';
import { RuntimeClient } from '../runtimes/runtime-client';
import { startTestCluster } from '../test/mesos/test-cluster';
import { startEmbeddedGust } from '../workers/embedded';
import { installTemporalRuntime } from '../workers/temporal';
import { embeddedBenchConfig } from './lib/embedded-config';
import { elapsedMs, formatTable, summarize } from './lib/stats';

const COLD = Number(process.env.COLD ?? 10);
const RUN = `mb${process.pid}`;
const CODE = 'function main(p) { return { hello: p.name }; }';
const AUTH = `Basic ${Buffer.from(GUEST_API_KEY).toString('base64')}`;

/** The scheduler API used directly: one subscription, launches one task at a time. */
class DirectFramework {
  readonly api: MesosSchedulerApi;
  readonly #abort = new AbortController();
  #frameworkId = '';
  #streamId = '';
  #offers: Offer[] = [];
  #statuses: TaskStatus[] = [];
  #wake: (() => void) | undefined;
  #wanting = false;

  constructor(masterUrl: string) {
    this.api = new MesosSchedulerApi(masterUrl);
  }

  async subscribe(): Promise<void> {
    const sub = await this.api.subscribe(
      { user: 'root', name: `direct-${RUN}`, failover_timeout: 60 },
      this.#abort.signal,
    );
    this.#streamId = sub.streamId;
    void (async () => {
      try {
        for await (const e of sub.events) this.#on(e);
      } catch {
        // closed
      }
    })();
    await this.#until(() => this.#frameworkId !== '');
  }

  #on(e: Event): void {
    if (e.type === 'SUBSCRIBED') this.#frameworkId = e.subscribed.framework_id.value;
    if (e.type === 'OFFERS') {
      // Offers it does not need go back at once (held, they would starve Gust's framework).
      if (this.#wanting) this.#offers.push(...e.offers.offers);
      else void this.#decline(e.offers.offers, 3600);
    }
    if (e.type === 'UPDATE') this.#statuses.push(e.update.status);
    this.#wake?.();
  }

  async #until(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** REVIVE, take the first offer, launch the task on it, wait for TASK_RUNNING; its address. */
  async launch(taskId: string): Promise<string> {
    const fw = { value: this.#frameworkId };
    this.#offers = [];
    this.#wanting = true;
    await this.api.call(this.#streamId, { type: 'REVIVE', framework_id: fw });
    await this.#until(() => this.#offers.length > 0);
    this.#wanting = false;
    const [offer, ...rest] = this.#offers;
    const port = portsOf(offer!.resources)[0]!;
    const task = buildTaskInfo(
      { taskId, image: NODEJS_RUNTIME_IMAGE, cpus: cpusFor(256), memoryMB: 256, env: {}, labels: {} },
      offer!.agent_id.value,
      port,
    );
    await this.api.call(this.#streamId, {
      type: 'ACCEPT',
      framework_id: fw,
      accept: {
        offer_ids: [offer!.id],
        operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }],
        filters: { refuse_seconds: 1 },
      },
    });
    if (rest.length) await this.#decline(rest, 3600);
    await this.#until(() =>
      this.#statuses.some((s) => s.task_id.value === taskId && s.state !== 'TASK_STAGING'),
    );
    const status = this.#statuses.find((s) => s.task_id.value === taskId)!;
    if (status.state !== 'TASK_RUNNING')
      throw new Error(`direct launch: ${status.state} ${status.message ?? ''}`);
    return `http://${offer!.hostname}:${port}`;
  }

  async #decline(offers: Offer[], refuseSeconds: number): Promise<void> {
    await this.api.call(this.#streamId, {
      type: 'DECLINE',
      framework_id: { value: this.#frameworkId },
      decline: { offer_ids: offers.map((o) => o.id), filters: { refuse_seconds: refuseSeconds } },
    });
  }

  async kill(taskId: string): Promise<void> {
    await this.api.call(this.#streamId, {
      type: 'KILL',
      framework_id: { value: this.#frameworkId },
      kill: { task_id: { value: taskId } },
    });
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.api.close();
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!.toFixed(1);
  installTemporalRuntime();
  const cluster = await startTestCluster(
    [
      { cpus: 8, memMB: 8192 },
      { cpus: 8, memMB: 8192 },
    ],
    { allocationIntervalMs: 1000, heartbeatIntervalSeconds: 15 },
  );
  const base = embeddedBenchConfig({
    controllerId: `${RUN}-c`,
    stateDirPrefix: 'gust-bench-mesos-',
    invocationsPerMinute: 100_000,
    concurrentInvocations: 100,
  });
  const { stateDir } = base;
  const config: GustConfig = {
    ...base,
    agent: { ...base.agent, backend: 'mesos', hostId: `${RUN}-cluster`, capacityMB: 16384 },
    mesos: { ...base.mesos, masterUrl: cluster.master.url, frameworkName: `bench-${RUN}` },
    pools: { ...base.pools, stemCells: [] },
  };
  const gust = await startEmbeddedGust({ config, scope: { prefix: `${RUN}-` }, schedules: false, port: 0 });
  const direct = new DirectFramework(cluster.master.url);
  await direct.subscribe();
  const runtime = new RuntimeClient();
  const api = `${gust.controller.url}/api/v1/namespaces/_/actions`;
  const gustCold: number[] = [];
  const directCold: number[] = [];
  const waits: number[] = [];
  try {
    for (let i = 0; i < COLD; i++) {
      // Gust: a new action each time, so every invoke needs a new Mesos task.
      const name = `cold${i}`;
      const put = await fetch(`${api}/${name}`, {
        method: 'PUT',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ exec: { kind: 'nodejs:20', code: CODE } }),
      });
      if (!put.ok) throw new Error(`create ${name}: ${put.status} ${await put.text()}`);
      let t = process.hrtime.bigint();
      const invoked = await fetch(`${api}/${name}?blocking=true&result=false`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'mesos' }),
      });
      const record = (await invoked.json()) as {
        response?: { success?: boolean };
        annotations?: { key: string; value: unknown }[];
      };
      if (!record.response?.success) throw new Error(`invoke ${name}: ${JSON.stringify(record)}`);
      gustCold.push(elapsedMs(t));
      waits.push(Number(record.annotations?.find((a) => a.key === 'waitTime')?.value ?? NaN));

      // Directly through the master: the same task shape, then /init and /run.
      const taskId = `direct_${RUN}_${i}`;
      t = process.hrtime.bigint();
      const address = await direct.launch(taskId);
      const { hostname, port } = new URL(address);
      await waitForHttp({ host: hostname, port: Number(port) }, { timeoutMs: 30_000 });
      await runtime.init(address, { value: { name, main: 'main', code: CODE, binary: false } }, 10_000);
      const run = await runtime.run(
        address,
        {
          value: { name: 'mesos' },
          namespace: 'guest',
          action_name: `/guest/${name}`,
          activation_id: '0'.repeat(32),
          deadline: '0',
        },
        10_000,
      );
      if (run.outcome !== 'response' || run.status !== 200)
        throw new Error(`direct run: ${JSON.stringify(run)}`);
      directCold.push(elapsedMs(t));
      await runtime.close(address);
      await direct.kill(taskId);
    }
  } finally {
    await runtime.closeAll();
    await direct.close();
    await gust.stop();
    await cluster.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const g = summarize(gustCold);
  const d = summarize(directCold);
  const rows: [string, ReturnType<typeof summarize>][] = [
    ['Gust: invoke of a new action, new Mesos task', g],
    ['  of which waitTime (annotation)', summarize(waits)],
    ['direct: REVIVE → ACCEPT → RUNNING → /init → /run', d],
  ];
  const table = formatTable(rows);
  const ratio = g.p50 / d.p50;
  // A benchmark's progress and report are for the human at the terminal: plain stdout, not the log.
  console.log(table);
  console.log(`Gust / direct at p50: ×${ratio.toFixed(2)} (+${(g.p50 - d.p50).toFixed(0)} ms)`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `mesos-cold-start-${stamp}.json`),
    JSON.stringify(
      {
        cold: COLD,
        cpus: cpus().length,
        loadBefore,
        gust: g,
        direct: d,
        waitTime: summarize(waits),
        ratioP50: ratio,
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(dir, `mesos-cold-start-${stamp}.md`),
    `# Mesos cold start (simulated master), ${COLD} of each, alternating\n\n${cpus().length} CPUs, load average ${loadBefore} before the run.\n\n\`\`\`\n${table}\n\`\`\`\n\nGust / direct at p50: ×${ratio.toFixed(2)} (+${(g.p50 - d.p50).toFixed(0)} ms)\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
