// The config of a Gust that a benchmark embeds beside the shared stack (bench/knative.ts,
// bench/mesos-cold-start.ts): its own controller id on an ephemeral port, throttles set for the
// bench's load, and a SQLite store in a fresh state directory (config.stateDir: the caller removes it).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type GustConfig } from '../../common/config';

export function embeddedBenchConfig(options: {
  controllerId: string;
  /** Prefix of the temporary state directory's name. */
  stateDirPrefix: string;
  invocationsPerMinute: number;
  concurrentInvocations: number;
}): GustConfig {
  const stateDir = mkdtempSync(join(tmpdir(), options.stateDirPrefix));
  const base = loadConfig();
  return {
    ...base,
    stateDir,
    controller: {
      ...base.controller,
      id: options.controllerId,
      port: 0,
      invocationsPerMinute: options.invocationsPerMinute,
      concurrentInvocations: options.concurrentInvocations,
    },
    store: { ...base.store, kind: 'sqlite', sqlitePath: join(stateDir, 'gust.sqlite') },
  };
}
