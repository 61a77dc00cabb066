import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { creationTurns, procStatBusy } from '../../activities/creation-turns';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A CPU whose busy share the test sets, counting how often it was read. */
function cpu(share: number | undefined): {
  busy: () => number | undefined;
  set: (s: number) => void;
  reads: number;
} {
  const state = {
    reads: 0,
    busy: () => {
      state.reads++;
      return share;
    },
    set: (s: number) => (share = s),
  };
  return state;
}

describe('creationTurns', () => {
  it('runs at most `size` creations at once, the others in arrival order', async () => {
    const turn = creationTurns({ size: 1 });
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = turn(async () => {
      order.push('first starts');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('first ends');
    });
    const second = turn(async () => void order.push('second starts'));
    await sleep(5);
    expect(order).toEqual(['first starts']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first starts', 'first ends', 'second starts']);
  });

  it('does not look at the CPU unless a bound below 1 is set', async () => {
    const host = cpu(1);
    await creationTurns({ size: 1, busy: host.busy })(async () => 'created');
    await creationTurns({ size: 1, busy: host.busy, maxBusy: 1 })(async () => 'created', undefined, {
      spare: true,
    });
    expect(host.reads).toBe(0);
  });

  it('lets a creation a load asked for pass a spare (a stem cell) while the CPU is busy', async () => {
    const host = cpu(0.95);
    const turn = creationTurns({
      size: 1,
      busy: host.busy,
      maxBusy: 0.8,
      maxWaitMs: 10,
      spareWaitMs: 10_000,
      pollMs: 2,
    });
    const order: string[] = [];
    const spare = turn(async () => void order.push('stem cell'), undefined, { spare: true });
    await sleep(5);
    const needed = turn(async () => void order.push("the action's container"));
    await needed;
    await sleep(30);
    // The needed one waited its 10 ms for the CPU, then went; the spare waits for the CPU itself.
    expect(order).toEqual(["the action's container"]);
    host.set(0.5);
    await spare;
    expect(order).toEqual(["the action's container", 'stem cell']);
  });

  it('waits while the CPU is at least as busy as the bound, and starts once it is not', async () => {
    const host = cpu(0.95);
    const waits: number[] = [];
    const turn = creationTurns({
      size: 2,
      busy: host.busy,
      maxBusy: 0.8,
      maxWaitMs: 10_000,
      pollMs: 2,
      waited: (ms) => waits.push(ms),
    });
    let started = false;
    const created = turn(async () => (started = true));
    await sleep(20);
    expect(started).toBe(false);
    host.set(0.5);
    await created;
    expect(started).toBe(true);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(15);
    // A creation that found the CPU free did not wait, and says nothing.
    await turn(async () => 'created');
    expect(waits).toHaveLength(1);
  });

  it('waits at most maxWaitMs: a creation is deferred, never refused', async () => {
    let now = 0;
    const host = cpu(1);
    const turn = creationTurns({
      size: 1,
      busy: host.busy,
      maxBusy: 0.8,
      maxWaitMs: 50,
      pollMs: 1,
      now: () => now,
    });
    let started = false;
    const created = turn(async () => (started = true));
    await sleep(10);
    expect(started).toBe(false);
    now = 50;
    await created;
    expect(started).toBe(true);
  });

  it('starts at once when the CPU is unknown (no /proc/stat)', async () => {
    const host = cpu(undefined);
    const turn = creationTurns({ size: 1, busy: host.busy, maxBusy: 0.8, maxWaitMs: 10_000 });
    await expect(turn(async () => 'created')).resolves.toBe('created');
    expect(host.reads).toBe(1);
  });

  it('gives up a turn whose creation is cancelled while waiting for the CPU, and passes it on', async () => {
    const host = cpu(1);
    const turn = creationTurns({ size: 1, busy: host.busy, maxBusy: 0.8, maxWaitMs: 10_000, pollMs: 1 });
    const abort = new AbortController();
    let ran = false;
    const cancelled = turn(async () => (ran = true), abort.signal);
    const next = turn(async () => 'next created');
    abort.abort(new Error('cancelled'));
    await expect(cancelled).rejects.toThrow('cancelled');
    expect(ran).toBe(false);
    host.set(0);
    await expect(next).resolves.toBe('next created');
  });
});

describe('procStatBusy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gust-proc-stat-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // user nice system idle iowait irq softirq steal
  const stat = (busy: number, idle: number): string =>
    `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`;

  it('answers the busy share of the last sample interval', async () => {
    const path = join(dir, 'stat');
    writeFileSync(path, stat(1000, 1000));
    const busy = procStatBusy(path);
    expect(busy()).toBeUndefined(); // no interval sampled yet
    // An unchanged file keeps the last share: the waits can be generous.
    writeFileSync(path, stat(1000 + 90, 1000 + 10));
    await sleep(600);
    expect(busy()).toBeCloseTo(0.9);
    writeFileSync(path, stat(1090 + 25, 1010 + 75));
    await sleep(600);
    expect(busy()).toBeCloseTo(0.25);
  });

  it('is always undefined where the file does not exist', async () => {
    const busy = procStatBusy(join(dir, 'missing'));
    await sleep(260);
    expect(busy()).toBeUndefined();
  });
});
