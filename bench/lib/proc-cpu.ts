// CPU time by process group, read from /proc at a window's edges (utime + stime of every thread,
// in clock ticks; cgroup `cpu.stat` for a container), plus the machine's totals from /proc/stat.
// Groups: the processes this benchmark names by pid (controller, load generator, bare proxy, the
// container's processes, its docker-proxy) and the shared services found by command name.
import { readdirSync, readFileSync } from 'node:fs';
import { readCpuTicks } from '../../common/proc-stat';
import { round } from './report';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export interface CpuGroups {
  /** Named groups of processes by pid (all their threads are counted). */
  pids: Record<string, (number | undefined)[]>;
  /** Command name (comm) prefixes for shared services: dockerd, containerd, java, temporal, … */
  comms: Record<string, string[]>;
}

export interface CpuSnapshot {
  at: number;
  byGroup: Record<string, number>;
  /** Machine: busy and steal ms summed over all cores, and wall ms × cores. */
  machine: { busyMs: number; stealMs: number; idleMs: number };
}

function procTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] utime, [12] stime (0-based after the comm), children not included
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function comm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function machine(): CpuSnapshot['machine'] {
  const ticks = readCpuTicks();
  if (!ticks) throw new Error('/proc/stat cannot be read: the CPU figures need Linux');
  return { busyMs: ticks.busy * TICK_MS, stealMs: ticks.steal * TICK_MS, idleMs: ticks.idle * TICK_MS };
}

/** Pids whose cgroup path names `id` (a container's processes, on cgroup v1 or v2). */
export function pidsInCgroup(id: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id)) found.push(Number(pid));
    } catch {
      // gone
    }
  }
  return found;
}

/** Pids whose command line contains every one of `parts` (e.g. docker-proxy of one port). */
export function pidsWithArgs(...parts: string[]): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (parts.every((p) => cmdline.includes(p))) found.push(Number(pid));
    } catch {
      // gone
    }
  }
  return found;
}

export function snapshot(groups: CpuGroups): CpuSnapshot {
  const byGroup: Record<string, number> = {};
  const counted = new Set<number>();
  for (const [name, pids] of Object.entries(groups.pids)) {
    byGroup[name] = 0;
    for (const pid of pids) {
      if (pid === undefined) continue;
      byGroup[name] += procTicks(pid) * TICK_MS;
      counted.add(pid);
    }
  }
  const commGroups = Object.entries(groups.comms);
  if (commGroups.length > 0) {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || counted.has(Number(pid))) continue;
      const name = comm(pid);
      const group = commGroups.find(([, prefixes]) => prefixes.some((p) => name.startsWith(p)));
      if (group) byGroup[group[0]] = (byGroup[group[0]] ?? 0) + procTicks(Number(pid)) * TICK_MS;
    }
  }
  return { at: performance.now(), byGroup, machine: machine() };
}

/** CPU ms per group between two snapshots, and the machine's busy share (0..cores). */
export function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
): { byGroup: Record<string, number>; wallMs: number; machineBusyMs: number; stealMs: number } {
  const byGroup: Record<string, number> = {};
  for (const [name, ms] of Object.entries(b.byGroup)) byGroup[name] = ms - (a.byGroup[name] ?? 0);
  return {
    byGroup,
    wallMs: b.at - a.at,
    machineBusyMs: b.machine.busyMs - a.machine.busyMs,
    stealMs: b.machine.stealMs - a.machine.stealMs,
  };
}

/** CPU ms per completed request by group (µs precision); at least one request is counted. */
export function msPerRequest(byGroup: Record<string, number>, completed: number): Record<string, number> {
  const n = Math.max(1, completed);
  return Object.fromEntries(Object.entries(byGroup).map(([group, ms]) => [group, round(ms / n, 4)]));
}

/**
 * CPU by group over a load job's measured window: snapshots when the warm-up ends and when the
 * window does (timers started with the job), so the warm-up is not counted.
 */
export function cpuOverWindow(
  groups: CpuGroups,
  warmupMs: number,
  durationMs: number,
): { end: () => ReturnType<typeof cpuBetween> } {
  let start = snapshot(groups);
  let last: CpuSnapshot | undefined;
  const startTimer = setTimeout(() => (start = snapshot(groups)), warmupMs);
  const endTimer = setTimeout(() => (last = snapshot(groups)), warmupMs + durationMs);
  return {
    end: () => {
      clearTimeout(startTimer);
      clearTimeout(endTimer);
      return cpuBetween(start, last ?? snapshot(groups));
    },
  };
}

/**
 * Shared services by command name (comm is cut at 15 characters). On a shared machine they also
 * serve other work: their figures are an upper bound of what this benchmark costs them.
 */
export const SERVICE_COMMS: Record<string, string[]> = {
  dockerd: ['dockerd', 'containerd'],
  cassandra: ['java'],
  temporal: ['temporal'],
};
