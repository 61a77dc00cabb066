// A provisioner with the mesos framework in a process of its own, for the crash test: started
// with scripts/run-ts.js, it says `{ ready: true }` over IPC once its worker polls.
//   provisioner-child.ts <scope prefix> <master url> <framework name>
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createLogger } from '../../common/logger';
import { startProvisioner } from '../../workers/provisioner';
import { bundleControlPathWorkflows, installTemporalRuntime } from '../../workers/temporal';
import { testConfig } from '../integration/control-harness';

async function main(): Promise<void> {
  const [prefix, masterUrl, frameworkName] = process.argv.slice(2) as [string, string, string];
  installTemporalRuntime();
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
    mesos: { masterUrl, frameworkName, user: 'root', failoverTimeoutMs: 120_000 },
  });
  process.send?.({ ready: true });
}

main().catch((err: unknown) => {
  createLogger('error').error({ err }, 'the mesos provisioner child failed');
  process.exit(1);
});
