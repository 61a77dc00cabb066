// `npm run stack -- start mesos`: the SIMULATED Mesos master (test/mesos/master-simulator.ts — not
// Apache Mesos) for `GUST_BACKEND=mesos npm start`, on the port of GUST_MESOS_MASTER (default 5050).
//   node scripts/run-ts.js test/mesos/simulator-main.ts [--agents 2] [--cpus 4] [--mem 4096]
//        [--net 127.0.5] [--ports 31000-31099] --work-dir DIR
// Agents listen on <net>.1, <net>.2, …; tasks run on the project's dockerd. SIGTERM stops the
// master and removes its tasks' containers.
import { parseArgs } from 'node:util';
import { loadConfig } from '../../common/config';
import { MesosMasterSimulator } from './master-simulator';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: '2' },
      cpus: { type: 'string', default: '4' },
      mem: { type: 'string', default: '4096' },
      net: { type: 'string', default: '127.0.5' },
      ports: { type: 'string', default: '31000-31099' },
      'work-dir': { type: 'string' },
      'cluster-id': { type: 'string', default: 'gust-dev' },
    },
  });
  const config = loadConfig();
  const [begin, end] = values.ports.split('-').map(Number) as [number, number];
  if (!values['work-dir']) throw new Error('--work-dir is required');
  const master = await new MesosMasterSimulator({
    agents: Array.from({ length: Number(values.agents) }, (_, i) => ({
      hostname: `${values.net}.${i + 1}`,
      cpus: Number(values.cpus),
      memMB: Number(values.mem),
      ports: [begin, end] as [number, number],
      // Each agent has an address of its own, so all use the Mesos agent port.
      httpPort: 5051,
    })),
    dockerSocket: config.agent.dockerSocket,
    workDir: values['work-dir'],
    port: Number(new URL(config.mesos.masterUrl).port || 5050),
    clusterId: values['cluster-id'],
    // Tasks of a previous run of this master (kept running) come back.
    recover: true,
  }).start();
  // For the human starting the simulator by hand: where it listens, on plain stdout.
  console.log(`SIMULATED Mesos master (not Apache Mesos) on ${master.url}; agents:`);
  for (const agent of master.agents()) console.log(`  ${agent.id} ${agent.url}`);
  const stop = (): void => {
    void master.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
