// The controller process of controller-process.ts: `node scripts/run-ts.js controller-main.ts <json>`.
import { createLogger } from '../../common/logger';
import { createAgentBackend } from '../../workers/agent';
import { startController } from '../../workers/controller';
import { connectTemporal, createTemporalClient, installTemporalRuntime } from '../../workers/temporal';
import type { ControllerProcessInput } from './controller-process';

async function main(): Promise<void> {
  const { config, scope } = JSON.parse(process.argv[2]!) as ControllerProcessInput;
  const log = createLogger(config.observability.logLevel);
  installTemporalRuntime({ log });
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
    log,
    alarmFires: false,
  });
  // The handshake with controller-process.ts (a JSON line with the URL), not a log line.
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
}

main().catch((err: unknown) => {
  createLogger('error').error({ err }, 'the test controller process failed');
  process.exit(1);
});
