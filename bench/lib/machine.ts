// What machine a result came from: every report carries it, figures are meaningless without it.
import { cpus, freemem, loadavg, release, totalmem, type as osType } from 'node:os';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGB: number;
  freeMemoryGB: number;
  os: string;
  node: string;
  loadAverage: [number, number, number];
}

export function describeMachine(): MachineInfo {
  const list = cpus();
  const [one, five, fifteen] = loadavg();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    loadAverage: [round2(one ?? NaN), round2(five ?? NaN), round2(fifteen ?? NaN)],
  };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
