// The execution floor every other benchmark compares against: Docker create-to-ready and /init of
// the Node.js runtime, and direct /run latency at concurrency 1 (no controller in between).
//   npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --esModuleInterop --skipLibCheck bench/runtime.ts
//   node dist/bench/runtime.js        (env: CONTAINERS=20 RUNS=2000 WARMUP=200)
// Prints a table (milliseconds) and writes bench/results/runtime-<timestamp>.json.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../common/config';
import { LABELS } from '../common/names';
import type { ContainerBackend } from '../backends/backend';
import { DockerBackend } from '../backends/docker/backend';
import { ProcessBackend } from '../backends/process/backend';
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../runtimes/nodejs/runtime-entry';
import { RuntimeClient } from '../runtimes/runtime-client';
import { NOOP_INIT, NOOP_RUN } from './lib/runtime-origin';
import { elapsedMs, formatTable, summarize, writeResults, type Summary } from './lib/stats';

const CONTAINERS = Number(process.env.CONTAINERS ?? 20);
const RUNS = Number(process.env.RUNS ?? 2000);
const WARMUP = Number(process.env.WARMUP ?? 200);
const OWNER = `bench-runtime-${process.pid}`;
const REPO = join(__dirname, '..', '..');

let seq = 0;
const spec = (backend: ContainerBackend) => ({
  name: `gust_${OWNER}_${backend.name}_${seq++}`,
  image: NODEJS_RUNTIME_IMAGE,
  kind: NODEJS_RUNTIME_KIND,
  memoryMB: 256,
  env: {},
  labels: { [LABELS.owner]: OWNER },
});

async function coldStarts(
  backend: ContainerBackend,
  client: RuntimeClient,
): Promise<{ create: number[]; init: number[] }> {
  const create: number[] = [];
  const init: number[] = [];
  for (let i = 0; i < CONTAINERS; i++) {
    let start = process.hrtime.bigint();
    const container = await backend.create(spec(backend));
    create.push(elapsedMs(start));
    start = process.hrtime.bigint();
    const result = await client.init(container.address, NOOP_INIT, 10_000);
    init.push(elapsedMs(start));
    if (result.outcome !== 'response' || result.status !== 200)
      throw new Error(`init failed: ${JSON.stringify(result)}`);
    await client.close(container.address);
    await backend.destroy(container.id);
  }
  return { create, init };
}

async function warmRuns(backend: ContainerBackend, client: RuntimeClient): Promise<number[]> {
  const container = await backend.create(spec(backend));
  try {
    await client.init(container.address, NOOP_INIT, 10_000);
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const start = process.hrtime.bigint();
      const result = await client.run(container.address, NOOP_RUN, 10_000);
      const ms = elapsedMs(start);
      if (result.outcome !== 'response' || result.status !== 200)
        throw new Error(`run failed: ${JSON.stringify(result)}`);
      if (i >= WARMUP) samples.push(ms);
    }
    return samples;
  } finally {
    await client.close(container.address);
    await backend.destroy(container.id);
  }
}

async function main(): Promise<void> {
  execFileSync('bash', [join(REPO, 'runtimes', 'build-images.sh')], { stdio: 'inherit' });
  const config = loadConfig();
  const docker = new DockerBackend({
    socketPath: config.agent.dockerSocket,
    hostId: 'bench',
    capacityMB: config.agent.capacityMB,
  });
  const processes = new ProcessBackend({ hostId: 'bench', warn: false });
  const client = new RuntimeClient();
  const rows: [string, Summary][] = [];
  try {
    const docs = await coldStarts(docker, client);
    rows.push(['docker create-to-ready', summarize(docs.create)]);
    rows.push(['docker /init (noop)', summarize(docs.init)]);
    rows.push(['docker /run c=1 (noop)', summarize(await warmRuns(docker, client))]);
    const procs = await coldStarts(processes, client);
    rows.push(['process create-to-ready', summarize(procs.create)]);
    rows.push(['process /run c=1 (noop)', summarize(await warmRuns(processes, client))]);
  } finally {
    await client.closeAll();
    await processes.close();
    await docker.close();
  }
  // A benchmark's progress and report are for the human at the terminal: plain stdout, not the log.
  console.log(formatTable(rows));
  writeResults('runtime', {
    settings: { containers: CONTAINERS, runs: RUNS, warmup: WARMUP },
    unit: 'ms',
    results: Object.fromEntries(rows),
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
