// `npm start`: the embedded default. One Node process runs the provisioner, one agent and the
// controller (workers/embedded.ts), with the Temporal dev server as a child process.
// SIGINT/SIGTERM stops everything it started and removes the containers it made.
import { join } from 'node:path';
import { GUEST_API_KEY } from '../api/api-keys';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { ProcessMetrics } from '../common/metrics';
import { startDevServer } from './dev-server';
import { startEmbeddedGust } from './embedded';
import { installTemporalRuntime } from './temporal';
import { tracing } from '../common/tracing';

async function main(): Promise<void> {
  // The embedded default: generous throttles unless GUST_* says otherwise (README).
  const config = loadConfig({ embedded: true });
  const log = createLogger(config.observability.logLevel);
  // Our handler below stops the workers, in order: the SDK's own would stop them all at once on
  // SIGTERM, before the mesos backend has killed its tasks through the provisioner.
  installTemporalRuntime({ log, shutdownSignals: [] });
  const started = Date.now();
  const cli = process.env.GUST_TEMPORAL_CLI ?? join(config.cacheDir, 'bin', 'temporal');
  const devServer = await startDevServer(config, cli);
  const metrics = config.observability.metrics ? new ProcessMetrics({ processMetrics: true }) : undefined;
  const gust = await startEmbeddedGust({ config, log, metrics });
  const { controller } = gust;

  const [ip] = config.temporal.address.split(':');
  const uiUrl = `http://${ip}:${config.temporal.uiPort}`;
  log.info({ api: `${controller.url}/api/v1`, temporalUi: uiUrl, metrics: !!metrics }, 'Gust is up');
  // The greeting is for the human who typed `npm start`: addresses and the guest key to copy, on
  // stdout as plain text whatever GUST_LOG_LEVEL says (the log line above carries the same facts).
  console.log(
    [
      '',
      `Gust is up (${Date.now() - started} ms): ${config.agent.backend} backend, ${config.store.kind} store`,
      `  API          ${controller.url}/api/v1`,
      `  Temporal UI  ${uiUrl}`,
      `  Temporal     ${config.temporal.address}`,
      `  Metrics      ${metrics ? `${controller.url}/metrics` : '(off: GUST_METRICS=false)'}`,
      `  Credentials  ${config.controller.production ? '(production: create keys with npm run admin)' : GUEST_API_KEY}`,
      `  Try          wsk property set --apihost ${controller.url} --auth ${GUEST_API_KEY}`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  const shutdown = async (signal: string): Promise<void> => {
    log.info({ signal }, 'stopping Gust');
    const { containersRemoved } = await gust.stop();
    await devServer.stop();
    await tracing()?.shutdown();
    log.info({ containersRemoved }, 'Gust stopped');
  };
  // A second signal (a terminal's SIGINT and a wrapper's SIGTERM often come together) must not
  // cut the first shutdown short.
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    stopping ??= shutdown(signal).then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  createLogger('error').error({ err }, 'Gust failed to start');
  process.exit(1);
});
