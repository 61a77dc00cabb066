// The controller process of controller-process.ts: `node scripts/run-ts.js controller-main.ts <json>`.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createLogger } from '../../common/logger';
import { createAgentBackend } from '../../workers/agent';
import { startController } from '../../workers/controller';
import { connectTemporal, createTemporalClient } from '../../workers/temporal';
import type { ControllerProcessInput } from './controller-process';

async function main(): Promise<void> {
  const { config, scope } = JSON.parse(process.argv[2]!) as ControllerProcessInput;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await connectTemporal(config);
  const client = createTemporalClient(connection, config);
  const backend = await createAgentBackend(config, { client, scope });
  const running = await startController({
    config,
    connection,
    client,
    hostAccess: backend,
    scope,
    port: 0,
    log: createLogger('warn'),
    alarmFires: false,
  });
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
