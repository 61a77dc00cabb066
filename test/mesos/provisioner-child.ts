// A provisioner with the mesos framework in a process of its own, for the crash test: started
// with scripts/run-ts.js, it says `{ ready: true }` over IPC once its worker polls.
//   provisioner-child.ts <scope prefix> <master url> <framework name>
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startProvisioner } from '../../workers/provisioner';
import { bundleControlPathWorkflows } from '../../workers/temporal';
import { testConfig } from '../integration/control-harness';

async function main(): Promise<void> {
  const [prefix, masterUrl, frameworkName] = process.argv.slice(2) as [string, string, string];
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({
    address: process.env.GUST_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  });
  const client = new Client({ connection });
  await startProvisioner({
    connection,
    client,
    bundle: await bundleControlPathWorkflows(),
    config: testConfig(),
    scope: { prefix },
    schedules: false,
    mesos: { masterUrl, frameworkName, user: 'root', failoverTimeoutMs: 120_000, secretKey: '' },
  });
  process.send?.({ ready: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
