// Where the warm path's time goes: Gust composed in-process as in bench/suite.ts, a no-op action
// warmed, then a closed loop from the load-generator child while the V8 profiler samples only
// this process during the measured window. Prints controller CPU per request and the top
// self-time functions; writes the .cpuprofile (open it in Chrome DevTools).
//   node dist/bench/profile-warm.js [concurrency=1] [seconds=5]
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { request } from 'undici';
import { GUEST_API_KEY } from '../api/api-keys';
import { startBenchStack } from './lib/gust-stack';
import { LoadGenerator } from './lib/load-client';

const CONCURRENCY = Number(process.argv[2] ?? 1);
const SECONDS = Number(process.argv[3] ?? 5);
const AUTH = `Basic ${Buffer.from(GUEST_API_KEY).toString('base64')}`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

function post<T>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))),
  );
}

function topSelf(profile: Profile, count: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '');
    const key = `${frame.functionName || '(anonymous)'} ${where}${where ? `:${frame.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${key}`);
}

async function main(): Promise<void> {
  // A benchmark's progress and report are for the human at the terminal: plain stdout, not the log.
  const stack = await startBenchStack({ stemCells: 1, cassandra: true, log: console.log });
  const load = new LoadGenerator();
  const name = `bench-${process.pid}-profile`;
  try {
    const put = await request(`${stack.url}/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
      method: 'PUT',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({
        exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' },
        limits: { concurrency: Math.max(1, CONCURRENCY) },
      }),
    });
    await put.body.text();
    const template = {
      path: `/api/v1/namespaces/_/actions/${name}?blocking=true`,
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: '{}',
    };
    const warm = await load.run({ type: 'single', origin: stack.url, request: template, timeoutMs: 60_000 });
    if (warm.status !== '200') throw new Error(`warm-up: ${warm.status} ${warm.body}`);
    const session = new Session();
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
    await post(session, 'Profiler.start');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await load.run({
      type: 'closed',
      origin: stack.url,
      requests: [template],
      concurrency: CONCURRENCY,
      warmupMs: 0,
      durationMs: SECONDS * 1000,
    });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const { profile } = await post<{ profile: Profile }>(session, 'Profiler.stop');
    session.disconnect();
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(
      `c=${CONCURRENCY}: ${result.throughput.toFixed(0)} req/s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms`,
    );
    console.log(
      `Gust process CPU: ${((100 * cpuMs) / wallMs).toFixed(0)}% of one core, ${(cpuMs / Math.max(1, result.completed)).toFixed(3)} ms per request`,
    );
    console.log(topSelf(profile, 30).join('\n'));
    const file = join(__dirname, '..', '..', 'bench', 'results', `profile-warm-c${CONCURRENCY}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    console.log(`wrote ${file}`);
  } finally {
    await request(`${stack.url}/api/v1/namespaces/_/actions/${name}`, {
      method: 'DELETE',
      headers: { authorization: AUTH },
    }).then(
      (r) => r.body.text(),
      () => undefined,
    );
    await load.close();
    const cleaned = await stack.stop();
    console.log(`cleanup: ${JSON.stringify(cleaned)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
