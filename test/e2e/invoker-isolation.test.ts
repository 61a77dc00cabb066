// Audit L9, end to end through the official `openwhisk` client on every backend (GUST_E2E_BACKEND):
// warm containers are kept per invoking namespace, as OpenWhisk keeps them. Namespace `l9c`
// publishes a package whose action remembers its last parameters in a module global; `l9a` and
// `l9b` each bind it and invoke it. Before the fix `l9b`'s first run landed on the container `l9a`'s
// run had warmed, saw `l9a`'s parameters, and had `l9a` as `__OW_NAMESPACE` in /init's environment.
import type openwhisk from 'openwhisk';
import { serviceName } from '../../backends/knative/service-spec';
import { openStores, type Stores } from '../../store/open-stores';
import type { GustUnderTest } from './harness';
import { namespaceClient, startGust } from './harness';
import { eventually } from './waiting';

jest.setTimeout(240_000);

type Client = ReturnType<typeof openwhisk>;
let gust: GustUnderTest;
let stores: Stores;
const clients: Record<string, Client> = {};

beforeAll(async () => {
  gust = await startGust({
    keyspace: 'gust_e2e_isolation',
    controller: { blockingWaitMs: 60_000, provisionTimeoutMs: 30_000 },
  });
  stores = await openStores(gust.config.store);
  for (const namespace of ['l9c', 'l9a', 'l9b'])
    clients[namespace] = await namespaceClient(gust, stores, namespace);
});
afterAll(async () => {
  await stores?.close();
  await gust?.stop();
});

// The review's action, plus what /init's environment (read at load time) and /run's said.
const REMEMBERS = `
const initNamespace = process.env.__OW_NAMESPACE;
function main(p) {
  const prev = globalThis.last;
  globalThis.last = p;
  return { prev, initNamespace, runNamespace: process.env.__OW_NAMESPACE };
}`;

interface Seen {
  prev?: Record<string, unknown>;
  initNamespace?: string;
  runNamespace?: string;
}

const invoke = async (namespace: string, name: string, params: Record<string, unknown>): Promise<Seen> =>
  (await clients[namespace]!.actions.invoke({ name, params, blocking: true, result: true })) as Seen;

test("one namespace's run never sees what another namespace's run left in a warm container", async () => {
  const owner = clients['l9c']!;
  await owner.packages.create({ name: 'pub', package: { publish: true } });
  await owner.actions.create({ name: 'pub/remember', action: REMEMBERS, limits: { memory: 256 } });
  for (const namespace of ['l9a', 'l9b'])
    await clients[namespace]!.packages.create({
      name: 'bound',
      package: { binding: { namespace: 'l9c', name: 'pub' } },
    });

  const a1 = await invoke('l9a', 'bound/remember', { secret: 'a-1' });
  expect(a1).toEqual({ initNamespace: 'l9a', runNamespace: 'l9a' });
  // The same namespace keeps its warm container (what makes the check below meaningful).
  const a2 = await invoke('l9a', 'bound/remember', { secret: 'a-2' });
  expect(a2).toEqual({ prev: { secret: 'a-1' }, initNamespace: 'l9a', runNamespace: 'l9a' });

  // Before the fix: prev was { secret: 'a-2' } and initNamespace 'l9a'.
  const b1 = await invoke('l9b', 'bound/remember', { secret: 'b-1' });
  expect(b1).toEqual({ initNamespace: 'l9b', runNamespace: 'l9b' });
  // By its fully qualified name, B gets its own container again (the one its binding warmed).
  const b2 = await invoke('l9b', '/l9c/pub/remember', { secret: 'b-2' });
  expect(b2).toEqual({ prev: { secret: 'b-1' }, initNamespace: 'l9b', runNamespace: 'l9b' });

  // The owner's own runs share no container with either.
  const c1 = await invoke('l9c', 'pub/remember', { secret: 'c-1' });
  expect(c1).toEqual({ initNamespace: 'l9c', runNamespace: 'l9c' });
  const a3 = await invoke('l9a', 'bound/remember', { secret: 'a-3' });
  expect(a3).toEqual({ prev: { secret: 'a-2' }, initNamespace: 'l9a', runNamespace: 'l9a' });
});

// With GUST_BACKEND=knative each invoking namespace's runs have a Knative Service of their own;
// deleting the action deletes every one of them.
const onKnative = process.env.GUST_E2E_BACKEND === 'knative' ? test : test.skip;
onKnative('knative: one Service per invoking namespace, all deleted with the action', async () => {
  const cluster = gust.knative!;
  const services = ['l9c', 'l9a', 'l9b'].map((ns) =>
    serviceName('l9c/pub', 'remember', ns === 'l9c' ? undefined : ns),
  );
  expect(new Set(services).size).toBe(3);
  const present = async () => {
    const names = new Set((await cluster.services()).map((s) => s.metadata.name));
    return services.filter((s) => names.has(s));
  };
  expect(await present()).toEqual(services);
  await clients['l9c']!.actions.delete({ name: 'pub/remember' });
  expect(await eventually(present, (left) => left.length === 0, 60_000)).toEqual([]);
});
