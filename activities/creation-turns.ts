// When a container creation may start on this host: one of a few turns, and CPU to spare.
//
// A creation keeps a core busy for a few hundred ms (the engine, the shim, the runtime booting).
// On a host whose CPUs are already busy it takes them from the runs in progress, whose /run times
// stretch; the routers size pools by those times (Little's law), ask for more containers, and the
// next creations stretch them further. Measured on 2 cores, a new action under a 400 req/s open
// loop ended with 21–54 containers for a load one serves; with creations waiting for the CPU, 6–8
// (bench/results/invoke-measurements-2026-11-30.md §17). So a turn, once it comes, also waits
// while the host's CPU was at least `maxBusy` busy over the last sample — at most `maxWaitMs`: a
// creation is deferred, never refused, so a host busy with its own runs still grows.
//
// A spare (a stem cell, made ahead of any demand) waits for CPU to spare before it queues for a
// turn, and longer (`spareWaitMs`): a claimed stem cell's replacement is asked for in the very
// seconds its action's load is ramping up, and must not take the turn or the CPU of the containers
// that load needs.
import { readCpuTicks } from '../common/proc-stat';

/** The host's CPU busy share (0–1) over the last sample interval; undefined if unknown. */
export type CpuBusy = () => number | undefined;

export interface CreationTurnsOptions {
  /** Creations run at once. */
  size: number;
  /** A creation waits while the CPU is at least this busy (0–1); 1 or more: never. */
  maxBusy?: number;
  /** The longest a creation waits for the CPU. @default 2000 */
  maxWaitMs?: number;
  /** The longest a spare waits for the CPU before it queues for a turn. @default 10 × maxWaitMs */
  spareWaitMs?: number;
  /** @default this machine's /proc/stat (procStatBusy) */
  busy?: CpuBusy;
  /** How often a waiting creation looks again. @default 100 */
  pollMs?: number;
  /** Told how long a creation waited for the CPU, when it did. */
  waited?: (ms: number) => void;
  now?: () => number;
}

/**
 * Runs `fn` in a turn; `signal` gives the turn up while it waits for the CPU. `spare`: a container
 * no load asked for yet (a stem cell), which yields to those one did.
 */
export type CreationTurn = <T>(
  fn: () => Promise<T>,
  signal?: AbortSignal,
  options?: { spare?: boolean },
) => Promise<T>;

export const DEFAULT_CREATE_MAX_CPU_WAIT_MS = 2_000;

export function creationTurns(options: CreationTurnsOptions): CreationTurn {
  const { size, maxBusy = 1, maxWaitMs = DEFAULT_CREATE_MAX_CPU_WAIT_MS, pollMs = 100 } = options;
  const spareWaitMs = options.spareWaitMs ?? 10 * maxWaitMs;
  const now = options.now ?? Date.now;
  const gated = maxBusy < 1 && maxWaitMs > 0;
  const busy = options.busy ?? (gated ? procStatBusy() : () => undefined);
  let free = size;
  const waiting: (() => void)[] = [];

  async function cpuToSpare(waitMs: number, signal?: AbortSignal): Promise<void> {
    const start = now();
    const deadline = start + waitMs;
    let polls = 0;
    for (let share = busy(); share !== undefined && share >= maxBusy && now() < deadline; share = busy()) {
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      polls++;
    }
    if (polls > 0) options.waited?.(now() - start);
  }

  return async (fn, signal, { spare = false } = {}) => {
    if (gated && spare) await cpuToSpare(spareWaitMs, signal);
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      if (gated) await cpuToSpare(maxWaitMs, signal);
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

const SAMPLE_MS = 250;

/**
 * The CPU busy share of this machine from /proc/stat over the last SAMPLE_MS, sampled from now on
 * (an unref'd timer: four small reads a second). Always undefined where /proc/stat is missing.
 */
export function procStatBusy(path = '/proc/stat'): CpuBusy {
  // Stolen time counts as busy: the hypervisor did not give it to this machine.
  const read = (): { busy: number; total: number } | undefined => {
    const ticks = readCpuTicks(path);
    return ticks && { busy: ticks.busy + ticks.steal, total: ticks.busy + ticks.steal + ticks.idle };
  };
  let last = read();
  let share: number | undefined;
  if (last) {
    setInterval(() => {
      const next = read();
      if (next && last && next.total > last.total)
        share = (next.busy - last.busy) / (next.total - last.total);
      last = next;
    }, SAMPLE_MS).unref();
  }
  return () => share;
}
