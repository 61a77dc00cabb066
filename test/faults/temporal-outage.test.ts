// Fault: the Temporal server is down for longer than the lease timeout (killed, then started again
// on its database). Controllers stay alive all along, so when Temporal is back their containers
// must stay leased: the hosts workflow must not take its own deafness for their death (audit M3).
// A private dev server, so the outage disturbs nothing else on the machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessBackend } from '../../backends/process/backend';
import type { DevServer } from '../../workers/dev-server';
import {
  createHarness,
  testAction,
  testConfig,
  waitFor,
  type ControlPathHarness,
  type RecordingRouter,
} from '../integration/control-harness';
import { startPrivateTemporal } from './private-temporal';

jest.setTimeout(120_000);

const ADDRESS = '127.0.0.1:7299';
const PREFIX = 'fout-';
const NS = 'guest';
const LEASE_TIMEOUT_MS = 6000;
const DOWN_MS = 20_000;

let server: DevServer;
let stateDir: string;
let h: ControlPathHarness;
let host: ProcessBackend;
let c1: RecordingRouter;

const startServer = (): Promise<DevServer> => startPrivateTemporal(ADDRESS, 8299, stateDir);

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'gust-faults-'));
  server = await startServer();
  h = await createHarness(PREFIX, testConfig({ leaseTimeoutMs: LEASE_TIMEOUT_MS }), undefined, ADDRESS);
  host = new ProcessBackend({ hostId: `${PREFIX}h1`, warn: false });
  await h.startProvisioner();
  await h.startAgent(`${PREFIX}h1`, host);
  c1 = (await h.startController('c1')).router;
});

afterAll(async () => {
  await h?.close();
  await host?.close();
  await server?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

test('a Temporal outage longer than the lease timeout leaves live controllers their containers', async () => {
  await h.controlPlane('c1').requestContainers(testAction(NS, 'kept'), 1);
  const [lease] = await waitFor('a lease', () => (c1.forAction('kept').length ? c1.forAction('kept') : null));

  server.child!.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, DOWN_MS));
  server = await startServer();

  // Long enough for the hosts workflow's overdue expiry, a broadcast and a pool's reclaim.
  await new Promise((r) => setTimeout(r, 3 * LEASE_TIMEOUT_MS));
  const inventory = await h.inventory(h.names.actionPoolId({ namespace: NS, name: 'kept' }));
  expect(inventory.containers.map((c) => [c.info?.id, c.state, c.removal])).toEqual([
    [lease!.container.id, 'leased', null],
  ]);
  expect(c1.revoked).toEqual([]);
  expect((await host.list({})).map((c) => c.id)).toContain(lease!.container.id);
});
