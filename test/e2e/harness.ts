// Starts a whole Gust for end-to-end tests: provisioner, one agent (process backend) and a
// controller on 127.0.0.1:<ephemeral>, on the shared Temporal dev server under a scope of its own,
// with a fresh SQLite store. Tests talk to it only through the official `openwhisk` client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import openwhisk from 'openwhisk';
import { GUEST_API_KEY } from '../../api/api-keys';
import type { GustConfig } from '../../common/config';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import { createAgentBackend, startAgent } from '../../workers/agent';
import { startController } from '../../workers/controller';
import { startProvisioner } from '../../workers/provisioner';
import { bundleControlPathWorkflows, connectTemporal, createTemporalClient } from '../../workers/temporal';

export interface GustUnderTest {
  /** `http://127.0.0.1:<port>` */
  apihost: string;
  apiKey: string;
  config: GustConfig;
  /** An `openwhisk` client for this Gust (guest credentials unless `apiKey` is given). */
  client(options?: { apiKey?: string; namespace?: string }): ReturnType<typeof openwhisk>;
  stop(): Promise<void>;
}

export interface StartGustOptions {
  controller?: Partial<GustConfig['controller']>;
}

let runtimeInstalled = false;

export async function startGust(options: StartGustOptions = {}): Promise<GustUnderTest> {
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    Runtime.install({ logger: new DefaultLogger('WARN') });
  }
  const id = Math.random().toString(36).slice(2, 8);
  const stateDir = mkdtempSync(join(tmpdir(), 'gust-e2e-'));
  const base = loadConfig();
  const config: GustConfig = {
    ...base,
    stateDir,
    controller: { ...base.controller, id: `e2e-${id}`, port: 0, ...options.controller },
    store: { ...base.store, kind: 'sqlite', sqlitePath: join(stateDir, 'gust.sqlite') },
    agent: { ...base.agent, hostId: `e2e-${id}`, backend: 'process' },
    pools: { ...base.pools, stemCells: [] },
  };
  const scope = { prefix: `e2e-${id}-` };
  const connection = await connectTemporal(config);
  const temporal = createTemporalClient(connection, config);
  const backend = await createAgentBackend(config);
  await backend.health();
  const bundle = await bundleControlPathWorkflows();
  const provisioner = await startProvisioner({
    connection,
    client: temporal,
    bundle,
    config,
    scope,
    schedules: false,
  });
  const agent = await startAgent({ connection, client: temporal, backend, config, scope });
  const controller = await startController({ config, connection, client: temporal, backend, scope, port: 0 });
  const apihost = controller.url;

  return {
    apihost,
    apiKey: GUEST_API_KEY,
    config,
    client: (o = {}) => openwhisk({ apihost, api_key: o.apiKey ?? GUEST_API_KEY, namespace: o.namespace }),
    async stop() {
      await controller.stop();
      await agent.stop();
      await provisioner.stop();
      const leftovers = await backend.list({ [LABELS.managed]: 'true', [LABELS.host]: config.agent.hostId });
      await Promise.all(leftovers.map((c) => backend.destroy(c.id)));
      await backend.close();
      await connection.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
