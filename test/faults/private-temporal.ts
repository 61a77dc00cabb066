// A Temporal dev server of a fault test's own (its database in `stateDir`), so that killing or
// freezing it disturbs nothing else on the machine. Started again on the same directory, it resumes.
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { startDevServer, type DevServer } from '../../workers/dev-server';

export async function startPrivateTemporal(
  address: string,
  uiPort: number,
  stateDir: string,
): Promise<DevServer> {
  const config = loadConfig();
  const server = await startDevServer(
    { ...config, stateDir, temporal: { ...config.temporal, address, uiPort } },
    process.env.GUST_TEMPORAL_CLI ?? join(config.cacheDir, 'bin', 'temporal'),
  );
  if (!server.child) throw new Error(`something else already answers on ${address}`);
  return server;
}
