// `npm start`: the embedded default. One Node process runs the provisioner, one agent and the
// controller over one NativeConnection, with the Temporal dev server as a child process.
// SIGINT/SIGTERM stops everything it started and removes the containers it made.
import { join } from 'node:path';
import { GUEST_API_KEY } from '../api/api-keys';
import { loadConfig } from '../common/config';
import { LABELS } from '../common/names';
import { createAgentBackend, startAgent } from './agent';
import { startController } from './controller';
import { startDevServer } from './dev-server';
import { startProvisioner } from './provisioner';
import { bundleControlPathWorkflows, connectTemporal, createTemporalClient } from './temporal';

async function main(): Promise<void> {
  const config = loadConfig();
  const started = Date.now();
  const cli = process.env.GUST_TEMPORAL_CLI ?? join(config.cacheDir, 'bin', 'temporal');
  const devServer = await startDevServer(config, cli);
  const connection = await connectTemporal(config);
  const client = createTemporalClient(connection, config);
  const backend = await createAgentBackend(config);
  await backend.health();
  const bundle = await bundleControlPathWorkflows();
  const provisioner = await startProvisioner({ connection, client, bundle, config });
  const agent = await startAgent({ connection, client, backend, config });
  const controller = await startController({ config, connection, client, backend });

  const [ip] = config.temporal.address.split(':');
  console.log(
    [
      '',
      `Gust is up (${Date.now() - started} ms): ${config.agent.backend} backend, ${config.store.kind} store`,
      `  API          ${controller.url}/api/v1`,
      `  Temporal UI  http://${ip}:${config.temporal.uiPort}`,
      `  Temporal     ${config.temporal.address}`,
      `  Credentials  ${config.controller.production ? '(production: create keys with npm run admin)' : GUEST_API_KEY}`,
      `  Try          wsk property set --apihost ${controller.url} --auth ${GUEST_API_KEY}`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  const shutdown = async (signal: string): Promise<void> => {
    console.log(`${signal}: stopping Gust`);
    await controller.stop();
    await agent.stop();
    await provisioner.stop();
    // The embedded stack owns its host: leave no container behind (the pools reconcile on next start).
    const leftovers = await backend.list({ [LABELS.managed]: 'true', [LABELS.host]: config.agent.hostId });
    await Promise.all(leftovers.map((c) => backend.destroy(c.id)));
    await backend.close();
    await connection.close();
    await devServer.stop();
    console.log(`stopped; removed ${leftovers.length} containers`);
  };
  // A second signal (a terminal's SIGINT and a wrapper's SIGTERM often come together) must not
  // cut the first shutdown short.
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    stopping ??= shutdown(signal).then(
      () => process.exit(0),
      (error) => {
        console.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
