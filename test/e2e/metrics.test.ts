// The controller's Prometheus metrics move with real traffic: a whole Gust (harness.ts: Temporal,
// dockerd, real runtime containers), actions invoked through the official `openwhisk` client, and
// GET /metrics read before and after, as Prometheus would.
import type { GustUnderTest } from './harness';
import { startGust } from './harness';
import { runId } from '../run-names';

jest.setTimeout(180_000);

let gust: GustUnderTest;

beforeAll(async () => {
  gust = await startGust({
    store: 'sqlite',
    controller: { invocationsPerMinute: 10_000, provisionTimeoutMs: 30_000 },
  });
});
afterAll(() => gust?.stop());

/** Every sample of the exposition text: `name{labels} value`. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return out;
}

async function scrape(): Promise<(name: string, labels?: Record<string, string>) => number> {
  const response = await fetch(`${gust.apihost}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const all = samples(await response.text());
  // The sum over the samples that carry these labels (0 when there is none).
  return (name, labels = {}) =>
    all
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
}

async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('invocations, phases, cold starts, router, writer, caches and workers show in /metrics', async () => {
  const ow = gust.client();
  const id = runId();
  const warm = `metrics-warm-${id}`;
  const cold = `metrics-cold-${id}`;
  const code = 'function main(p) { return { n: p.n }; }';
  await ow.actions.create({
    name: warm,
    action: { exec: { kind: 'nodejs:20', code }, limits: { memory: 256 } },
  });
  // No stem cell of 320 MB: its first invoke needs a container made for it.
  await ow.actions.create({
    name: cold,
    action: { exec: { kind: 'nodejs:20', code }, limits: { memory: 320 } },
  });

  // Knative routes and scales itself: no Gust router, no stem cells, no /init (pods initialise at
  // start); a pod's first answer is its cold start.
  const knative = gust.config.agent.backend === 'knative';
  // The harness keeps one stem cell of 256 MB: wait until it is leased to the controller.
  if (!knative)
    await eventually(
      async () => (await scrape())('gust_router_containers', { state: 'stem-cell' }) >= 1,
      60_000,
    );
  const before = await scrape();
  expect(before('gust_invocations_total', { action: `guest/${warm}` })).toBe(0);
  const coldBefore = {
    stemCell: before('gust_cold_starts_total', { kind: 'stem-cell' }),
    newContainer: before('gust_cold_starts_total', { kind: 'new-container' }),
  };
  const runsBefore = before('gust_activation_phase_seconds_count', { phase: 'run' });
  const writtenBefore = before('gust_activation_writer_written_total');

  for (let n = 0; n < 3; n++) {
    const result = await ow.actions.invoke({ name: warm, blocking: true, result: true, params: { n } });
    expect(result).toEqual({ n });
  }
  expect(await ow.actions.invoke({ name: cold, blocking: true, result: true, params: { n: 9 } })).toEqual({
    n: 9,
  });
  // A failing invoke is counted under its status.
  await expect(ow.actions.invoke({ name: `absent-${id}`, blocking: true })).rejects.toMatchObject({
    statusCode: 404,
  });

  const after = await scrape();
  expect(after('gust_invocations_total', { action: `guest/${warm}`, status: 'success' })).toBe(3);
  expect(after('gust_invocations_total', { action: `guest/${cold}`, status: 'success' })).toBe(1);
  expect(after('gust_cold_starts_total', { kind: 'stem-cell' })).toBe(
    coldBefore.stemCell + (knative ? 0 : 1),
  );
  expect(after('gust_cold_starts_total', { kind: 'new-container' })).toBe(
    coldBefore.newContainer + (knative ? 2 : 1),
  );
  expect(after('gust_activation_phase_seconds_count', { phase: 'run' })).toBe(runsBefore + 4);
  // No /init on knative: no init phase at all.
  if (knative) expect(after('gust_activation_phase_seconds_count', { phase: 'init' })).toBe(0);
  else expect(after('gust_activation_phase_seconds_count', { phase: 'init' })).toBeGreaterThanOrEqual(2);
  expect(after('gust_activation_phase_seconds_sum', { phase: 'wait' })).toBeGreaterThan(0);
  expect(after('gust_router_queued_requests')).toBe(0);
  if (knative) expect(after('gust_router_containers')).toBe(0);
  else expect(after('gust_router_containers', { state: 'idle' })).toBeGreaterThanOrEqual(2);
  expect(after('gust_cache_requests_total', { cache: 'entities', result: 'hit' })).toBeGreaterThan(0);
  expect(after('gust_cache_requests_total', { cache: 'auth', result: 'hit' })).toBeGreaterThan(0);
  expect(after('gust_cache_requests_total', { cache: 'entities', result: 'miss' })).toBeGreaterThan(0);
  // Kubernetes and Knative place containers themselves: no per-host agent runs there.
  const { backend } = gust.config.agent;
  const agent = backend === 'kubernetes' || backend === 'knative' ? [] : ['agent'];
  for (const role of ['controller', 'provisioner', ...agent]) {
    expect([role, after('gust_temporal_worker_up', { role })]).toEqual([role, 1]);
  }
  // Records are stored off the hot path.
  await eventually(async () => (await scrape())('gust_activation_writer_written_total') >= writtenBefore + 4);
  const settled = await scrape();
  expect(settled('gust_activation_writer_pending')).toBe(0);
  expect(settled('gust_activation_writer_failed_attempts_total')).toBe(0);
});
