// Cold starts: a new action's first invoke served from a stem cell, and with a new container (384 MB:
// no stem cell of that size), each split into waitTime / initTime / run / other from the activation's
// annotations; floors: the backend's create, then /init and /run sent by the same load generator
// that invokes Gust (same client, same connection set-up), on containers of the same image.
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';
import { spread, summarizeLatency } from '../lib/latency';
import { directTemplate, invokeTemplate, stemCellsAtTarget, type PhaseContext } from '../lib/phase-context';
import type { Figure } from '../lib/report';
import { stackedBars } from '../lib/svg';

/** Issue 13's targets, as multiples of the floor. */
const STEM_CELL_TARGET_RATIO = 1.5;
const NEW_CONTAINER_TARGET_RATIO = 1.1;

export interface ColdSettings {
  coldStemSamples: number;
  coldNewSamples: number;
  floorSamples: number;
}

export interface ColdSample {
  e2e: number;
  waitTime: number;
  initTime: number;
  run: number;
  other: number;
  status: string;
}

export interface ColdResult {
  stemCell: ColdSample[];
  newContainer: ColdSample[];
  floor: { create: number[]; init: number[]; run: number[] };
}

const p50 = (xs: number[]): number => summarizeLatency(xs).p50;

/** p50 of direct create + /init + /run: what a cold start with a new container cannot beat. */
export const newContainerFloorP50 = (floor: ColdResult['floor']): number =>
  p50(floor.create.map((v, i) => v + floor.init[i]! + floor.run[i]!));

function parseCold(body: string, e2e: number, status: string): ColdSample {
  const activation = JSON.parse(body) as {
    duration?: number;
    annotations?: { key: string; value: unknown }[];
  };
  const annotation = (key: string): number =>
    Number(activation.annotations?.find((a) => a.key === key)?.value ?? 0);
  const waitTime = annotation('waitTime');
  const initTime = annotation('initTime');
  const duration = Number(activation.duration ?? NaN);
  return { e2e, waitTime, initTime, run: duration - initTime, other: e2e - waitTime - duration, status };
}

/** One cold-start path's figures: its p50 against the floor and target, and its p95. */
function coldFigures(
  samples: ColdSample[],
  path: { p50: string; p95: string; floor: number; floorName: string; targetRatio: number },
): Figure[] {
  const e2e = samples.map((x) => x.e2e);
  const value = p50(e2e);
  return [
    {
      figure: path.p50,
      value,
      unit: 'ms',
      floor: path.floor,
      floorName: path.floorName,
      ratio: value / path.floor,
      target: `≤ ${path.targetRatio}× the floor`,
      met: value / path.floor <= path.targetRatio,
      noise: spread(e2e),
    },
    { figure: path.p95, value: summarizeLatency(e2e).p95, unit: 'ms' },
  ];
}

/**
 * `measured` is given the samples in every case, also when one fails part-way: the report shows
 * what was measured before the error.
 */
export async function coldStarts(
  ctx: PhaseContext & { settings: ColdSettings; measured: (result: ColdResult) => void },
): Promise<{ result: ColdResult; figures: Figure[] }> {
  const { stack, load, log, prefix, settings } = ctx;
  const result: ColdResult = { stemCell: [], newContainer: [], floor: { create: [], init: [], run: [] } };
  const { stemCell, newContainer, floor } = result;
  let seq = 0;
  const directSample = async (): Promise<void> => {
    const t = performance.now();
    const container = await stack.backend.create({
      name: `gust_${prefix}_floor_${seq++}`,
      image: NODEJS_RUNTIME_IMAGE,
      kind: NODEJS_RUNTIME_KIND,
      memoryMB: 384,
      env: {},
      labels: stack.labels,
    });
    floor.create.push(performance.now() - t);
    // One connection for both, as a client calling the runtime itself would use.
    const [init, run] = await load.run({
      type: 'sequence',
      origin: container.address,
      requests: [directTemplate(container.address, '/init'), directTemplate(container.address, '/run')],
      timeoutMs: 10_000,
    });
    if (init?.status !== '200' || run?.status !== '200')
      throw new Error(`direct floor container failed: /init ${init?.status}, /run ${run?.status}`);
    floor.init.push(init.ms);
    floor.run.push(run.ms);
    await stack.backend.destroy(container.id);
  };
  const coldInvoke = async (path: string, name: string, timeoutMs: number): Promise<ColdSample> => {
    const res = await load.run({
      type: 'single',
      origin: stack.url,
      request: invokeTemplate(name),
      timeoutMs,
    });
    if (res.status !== '200') throw new Error(`${path} cold start ${name}: ${res.status} ${res.body}`);
    return parseCold(res.body, res.ms, res.status);
  };
  try {
    for (let i = 0; i < settings.coldStemSamples; i++) {
      // Stem cells back at target: no replenishing create competes with the sample.
      await stemCellsAtTarget(ctx);
      const name = `${prefix}-cold-s${i}`;
      await ctx.putAction(name, { memory: 256, concurrency: 1 });
      stemCell.push(await coldInvoke('stem-cell', name, 60_000));
    }
    const s = summarizeLatency(stemCell.map((x) => x.e2e));
    log(`  stem cell: p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms (n=${s.count})`);
    for (let i = 0; i < Math.max(settings.coldNewSamples, settings.floorSamples); i++) {
      if (i < settings.floorSamples) await directSample();
      if (i >= settings.coldNewSamples) continue;
      const name = `${prefix}-cold-n${i}`;
      await ctx.putAction(name, { memory: 384, concurrency: 1 });
      newContainer.push(await coldInvoke('new-container', name, 90_000));
    }
    const n = summarizeLatency(newContainer.map((x) => x.e2e));
    log(`  new container: p50 ${n.p50.toFixed(1)} ms, p95 ${n.p95.toFixed(1)} ms (n=${n.count})`);
  } finally {
    ctx.measured(result);
  }
  const floorStem = p50(floor.init.map((v, i) => v + floor.run[i]!));
  const floorNew = newContainerFloorP50(floor);
  const figures = [
    ...coldFigures(stemCell, {
      p50: 'Cold start from a stem cell, p50',
      p95: 'Cold start from a stem cell, p95',
      floor: floorStem,
      floorName: 'direct /init + /run on a started container',
      targetRatio: STEM_CELL_TARGET_RATIO,
    }),
    ...coldFigures(newContainer, {
      p50: 'Cold start with a new container (384 MB), p50',
      p95: 'Cold start with a new container, p95',
      floor: floorNew,
      floorName: 'direct docker create + /init + /run',
      targetRatio: NEW_CONTAINER_TARGET_RATIO,
    }),
  ];
  return { result, figures };
}

/** The cold-start chart: each path's p50 parts stacked beside its floor. */
export function coldStartChart(cold: ColdResult): string {
  const bar = (label: string, s: ColdSample[]) => ({
    label,
    values: [
      p50(s.map((x) => x.waitTime)),
      p50(s.map((x) => x.initTime)),
      p50(s.map((x) => x.run)),
      p50(s.map((x) => x.other)),
    ],
  });
  const f = cold.floor;
  return stackedBars({
    title: 'Cold start, p50 of each part (ms)',
    yLabel: 'ms',
    segments: ['wait / create', 'init', 'run', 'other (HTTP, auth, record)'],
    bars: [
      { label: 'floor: direct\n/init + /run', values: [0, p50(f.init), p50(f.run), 0] },
      bar('Gust\nstem cell', cold.stemCell),
      {
        label: 'floor: direct create\n+ /init + /run',
        values: [p50(f.create), p50(f.init), p50(f.run), 0],
      },
      bar('Gust new\ncontainer (384 MB)', cold.newContainer),
    ],
  });
}
