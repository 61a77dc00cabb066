// What the agent endpoint (backends/docker/agent-endpoint.ts) costs a warm /run of a container on
// another Docker host, against the same container's unix socket (the single-host path, unchanged).
// One Docker container of the Node.js runtime, a noop action; the endpoint on 127.0.0.1 (the "other
// host" is this machine: the figure is the relay's own cost, without a network). Blocks of runs
// alternate between the two routes, so load on the machine hits both alike.
//   node scripts/run-ts.js bench/agent-endpoint.ts        (env: RUNS=2000 BLOCK=100 WARMUP=200)
// Prints a table (milliseconds) and the ratio of the medians, and writes
// bench/results/agent-endpoint-<timestamp>.json.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { LABELS } from '../common/names';
import { DockerBackend } from '../backends/docker/backend';
import { startAgentEndpoint } from '../backends/docker/agent-endpoint';
import { agentRoute, HostRoutes } from '../backends/host-routes';
import { derivedRuntimeSecret } from '../backends/runtime-secret-key';
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../runtimes/nodejs/runtime-entry';
import { RuntimeClient } from '../runtimes/runtime-client';
import { NOOP_INIT, NOOP_RUN } from './lib/runtime-origin';
import { elapsedMs, formatTable, summarize, writeResults } from './lib/stats';

const RUNS = Number(process.env.RUNS ?? 2000);
const BLOCK = Number(process.env.BLOCK ?? 100);
const WARMUP = Number(process.env.WARMUP ?? 200);
const HOST_ID = `bench-agent-${process.pid}`;

async function main(): Promise<void> {
  const config = loadConfig();
  const key = randomBytes(32).toString('base64url');
  const runtimeDir = join(config.agent.runtimeDir, HOST_ID);
  const docker = new DockerBackend({
    hostId: HOST_ID,
    capacityMB: 1024,
    socketPath: config.agent.dockerSocket,
    runtimeDir,
    runtimeSecretOf: (name) => derivedRuntimeSecret(key, name),
  });
  const endpoint = await startAgentEndpoint({
    containers: docker,
    host: '127.0.0.1',
    port: 0,
    log: createLogger('warn'),
  });
  // The socket route reads the secret from its file, the endpoint route derives it: both as a controller does.
  const client = new RuntimeClient({ secrets: new HostRoutes({ localHosts: [], secretKey: key }) });
  const container = await docker.create({
    name: `gust_${HOST_ID}_0`,
    image: NODEJS_RUNTIME_IMAGE,
    kind: NODEJS_RUNTIME_KIND,
    memoryMB: 256,
    env: {},
    labels: { [LABELS.owner]: HOST_ID },
  });
  const routes = { socket: container.address, endpoint: agentRoute(endpoint.url, container.name) };
  const samples: Record<keyof typeof routes, number[]> = { socket: [], endpoint: [] };
  try {
    const init = await client.init(routes.socket, NOOP_INIT, 10_000);
    if (init.outcome !== 'response' || init.status !== 200)
      throw new Error(`init failed: ${JSON.stringify(init)}`);
    const once = async (address: string): Promise<number> => {
      const start = process.hrtime.bigint();
      const result = await client.run(address, NOOP_RUN, 10_000);
      const ms = elapsedMs(start);
      if (result.outcome !== 'response' || result.status !== 200)
        throw new Error(`run failed: ${JSON.stringify(result)}`);
      return ms;
    };
    for (let i = 0; i < WARMUP; i++) await once(i % 2 === 0 ? routes.socket : routes.endpoint);
    for (let done = 0; done < RUNS; done += BLOCK) {
      for (const route of ['socket', 'endpoint'] as const)
        for (let i = 0; i < BLOCK; i++) samples[route].push(await once(routes[route]));
    }
  } finally {
    await client.closeAll();
    await endpoint.close();
    await docker.destroy(container.id);
    await docker.close();
    rmSync(runtimeDir, { recursive: true, force: true });
  }
  const rows = [
    ['docker /run c=1 over the unix socket (single host)', summarize(samples.socket)],
    ['docker /run c=1 through the agent endpoint', summarize(samples.endpoint)],
  ] as [string, ReturnType<typeof summarize>][];
  const ratio = rows[1]![1].p50 / rows[0]![1].p50;
  // A benchmark's report is for the human at the terminal: plain stdout, not the log.
  console.log(formatTable(rows));
  console.log(`p50 ratio endpoint / socket: ×${ratio.toFixed(2)}`);
  writeResults('agent-endpoint', {
    settings: { runs: RUNS, block: BLOCK, warmup: WARMUP },
    unit: 'ms',
    results: Object.fromEntries(rows),
    p50Ratio: ratio,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
