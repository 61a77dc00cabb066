// The machine's CPU time, all cores together, from the first line of /proc/stat (Linux).
import { readFileSync } from 'node:fs';

/** Clock ticks (USER_HZ) since boot: busy (user, nice, system, irq, softirq), stolen, idle (with iowait). */
export interface CpuTicks {
  busy: number;
  steal: number;
  idle: number;
}

/** The machine's CPU ticks now; undefined where the file cannot be read (not Linux). */
export function readCpuTicks(path = '/proc/stat'): CpuTicks | undefined {
  let line: string;
  try {
    line = readFileSync(path, 'utf8').split('\n', 1)[0]!;
  } catch {
    return undefined;
  }
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as number[];
  return { busy: user! + nice! + system! + irq! + softirq!, steal: steal!, idle: idle! + iowait! };
}
