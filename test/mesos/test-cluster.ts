// A SIMULATED Mesos cluster for one test file (test/mesos/master-simulator.ts): a master on an
// ephemeral port and agents on loopback addresses of their own (127.x.y.1, .2, …), so tasks of
// different test files never compete for host ports. Sandboxes go to a temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import {
  MesosMasterSimulator,
  type MesosMasterSimulatorOptions,
  type SimAgentConfig,
} from './master-simulator';

export interface TestCluster {
  master: MesosMasterSimulator;
  options: MesosMasterSimulatorOptions;
  /** Stops the master (and, unless kept, its tasks); a new master on the same port recovers kept ones. */
  restart(): Promise<MesosMasterSimulator>;
  close(): Promise<void>;
}

export async function startTestCluster(
  agents: Omit<SimAgentConfig, 'hostname' | 'ports'>[],
  overrides: Partial<MesosMasterSimulatorOptions> = {},
): Promise<TestCluster> {
  const net = `127.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}`;
  const workDir = mkdtempSync(join(tmpdir(), 'gust-mesos-sim-'));
  const options: MesosMasterSimulatorOptions = {
    agents: agents.map((a, i) => ({ ...a, hostname: `${net}.${i + 1}`, ports: [31000, 31019] })),
    dockerSocket: loadConfig().agent.dockerSocket,
    workDir,
    heartbeatIntervalSeconds: 1,
    allocationIntervalMs: 200,
    ...overrides,
  };
  let master = await new MesosMasterSimulator(options).start();
  const cluster: TestCluster = {
    get master() {
      return master;
    },
    options,
    async restart() {
      const port = Number(new URL(master.url).port);
      const agentPorts = master.agents().map((a) => Number(new URL(a.url).port));
      const clusterId = master.clusterId;
      await master.stop({ keepTasks: true });
      master = await new MesosMasterSimulator({
        ...options,
        port,
        clusterId,
        agents: options.agents.map((a, i) => ({ ...a, httpPort: agentPorts[i] })),
        recover: true,
      }).start();
      return master;
    },
    async close() {
      await master.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  return cluster;
}
