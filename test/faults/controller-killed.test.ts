// Fault: one of two controllers is killed with SIGKILL while both serve a steady load. The other
// controller serves on without a single error; once the dead one has not been heard from for the
// lease timeout, its containers go back (revoked from its leases and removed from the host), so
// the capacity returns and nothing is orphaned. A whole Gust on the real stack (Temporal, dockerd,
// Cassandra), the second controller in a process of its own.
import type { ChildProcess } from 'node:child_process';
import openwhisk from 'openwhisk';
import { GUEST_API_KEY } from '../../api/api-keys';
import { loadConfig } from '../../common/config';
import { DockerApi } from '../../backends/docker/api';
import { inventoryQuery, type PoolInventory } from '../../workflows/messages';
import { scopedNames } from '../../workflows/scope';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { eventually } from '../e2e/waiting';
import { startControllerProcess } from './controller-process';
import { steadyLoad } from './load';

jest.setTimeout(180_000);

const LEASE_TIMEOUT_MS = 8000;
const docker = new DockerApi(loadConfig().agent.dockerSocket);
let gust: GustUnderTest;
let b: { url: string; child: ChildProcess } | undefined;

beforeAll(async () => {
  gust = await startGust({
    backend: 'docker',
    keyspace: 'gust_faults_controllers',
    pools: { leaseTimeoutMs: LEASE_TIMEOUT_MS },
    controller: { invocationsPerMinute: 100_000, maxQueuePerAction: 1000 },
  });
  const { config, scope } = gust;
  b = await startControllerProcess({
    config: { ...config, controller: { ...config.controller, id: `${config.controller.id}-b` } },
    scope,
  });
});
afterAll(async () => {
  b?.child.kill('SIGKILL');
  await gust?.stop();
  await docker.close();
});

const inventory = (): Promise<PoolInventory> =>
  gust.embedded.client.workflow
    .getHandle(scopedNames(gust.scope).actionPoolId({ namespace: 'guest', name: 'steady' }))
    .query(inventoryQuery);

test('kill -9 of one controller under load: the other serves without an error, the dead one’s containers return', async () => {
  const idA = gust.config.controller.id;
  const idB = `${idA}-b`;
  const owA = gust.client();
  const owB = openwhisk({ apihost: b!.url, api_key: GUEST_API_KEY });
  await owA.actions.create({
    name: 'steady',
    action: 'async function main() { await new Promise((r) => setTimeout(r, 20)); return { ok: true }; }',
  });
  const invokeOn = (ow: typeof owA) => () =>
    ow.actions.invoke({ name: 'steady', blocking: true, result: true });

  // Both controllers serve, each from containers leased to it.
  const onA = steadyLoad(invokeOn(owA), 3);
  const onB = steadyLoad(invokeOn(owB), 3);
  const leasedToB = await eventually(
    async () => (await inventory()).containers.filter((c) => c.controllerId === idB && c.state === 'leased'),
    (cs) => cs.length > 0 && onB.outcomes().ok > 20,
    60_000,
  );
  const containersOfB = leasedToB.map((c) => c.info!.id);

  b!.child.kill('SIGKILL');
  await onB.stop();
  // A keeps serving through the dead controller's lease timeout, its expiry and the removals.
  await eventually(
    async () => (await inventory()).containers.filter((c) => c.controllerId === idB),
    (cs) => cs.length === 0,
    6 * LEASE_TIMEOUT_MS,
  );
  await new Promise((r) => setTimeout(r, 2000));
  const served = await onA.stop();

  expect(served.errors).toEqual([]);
  expect(served.ok).toBeGreaterThan(100);
  for (const id of containersOfB) expect(await docker.inspectContainer(id)).toBeNull();
  const left = (await inventory()).containers;
  expect(left.every((c) => c.controllerId === idA)).toBe(true);
});
