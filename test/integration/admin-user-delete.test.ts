// Audit L5 on the real stack: `npm run admin -- user delete` on Cassandra, with a whole Gust
// serving the namespace (Temporal's Schedules for its alarm). While the namespace holds entities
// the command refuses and changes nothing; with --purge its keys, entities and alarm schedule go,
// and a namespace created again under the same name through the admin tool starts empty.
import openwhisk from 'openwhisk';
import { masterKeyOf } from '../../api/action-keys';
import { deleteAlarmSchedule } from '../../api/catalog/alarm-feeds';
import { openStores, type Stores } from '../../store/open-stores';
import { runAdmin, type AdminIo } from '../../workers/admin-cli';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { eventually, failure } from '../e2e/waiting';

jest.setTimeout(180_000);

let gust: GustUnderTest;
let stores: Stores;
let io: AdminIo & { lines: string[] };

beforeAll(async () => {
  gust = await startGust({ keyspace: 'gust_admin_purge', pools: { stemCells: [] } });
  stores = await openStores(gust.config.store);
  const lines: string[] = [];
  io = {
    entities: stores.entities,
    masterKey: masterKeyOf(gust.config.controller.keyEncryptionKey, false),
    envApiKey: '',
    stdin: process.stdin,
    out: (line) => lines.push(line),
    warn: (line) => lines.push(line),
    deleteAlarmSchedule: (namespace, trigger) =>
      deleteAlarmSchedule(gust.embedded.client, gust.scope, namespace, trigger),
    lines,
  };
});
afterAll(async () => {
  await stores?.close();
  await gust?.stop();
});

const createUser = async (namespace: string): Promise<ReturnType<typeof openwhisk>> => {
  await runAdmin(['user', 'create', namespace], io);
  return openwhisk({ apihost: gust.apihost, api_key: io.lines.at(-1)! });
};

test('user delete refuses while entities remain; --purge leaves nothing for the next owner of the name', async () => {
  const namespace = `purge${Date.now().toString(36)}`;
  const ow = await createUser(namespace);
  await ow.actions.create({ name: 'hello', action: 'function main() { return {}; }' });
  await ow.packages.create({ name: 'tools' });
  await ow.actions.create({ name: 'tools/cat', action: 'function main(p) { return p; }' });
  await ow.triggers.create({
    name: 'yearly',
    trigger: { annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }] },
  });
  await ow.feeds.create({
    name: '/whisk.system/alarms/alarm',
    trigger: 'yearly',
    params: { cron: '0 0 1 1 *' },
  });
  await ow.rules.create({ name: 'on-yearly', trigger: 'yearly', action: 'hello' });
  const schedule = gust.embedded.client.schedule.getHandle(`${gust.scope.prefix}alarm/${namespace}/yearly`);
  expect((await schedule.describe()).scheduleId).toContain(namespace);

  await expect(runAdmin(['user', 'delete', namespace], io)).rejects.toThrow(
    /still holds 1 rule\(s\), 1 trigger\(s\), 2 action\(s\), 1 package\(s\).*Nothing was deleted/,
  );
  expect((await ow.actions.list()).map((a) => a.name).sort()).toEqual(['cat', 'hello']);

  await runAdmin(['user', 'delete', namespace, '--purge'], io);
  expect(io.lines.at(-1)).toMatch(
    /^deleted 1 key\(s\) and 1 rule\(s\), 1 trigger\(s\), 2 action\(s\), 1 package\(s\)/,
  );
  await expect(schedule.describe()).rejects.toMatchObject({ name: 'ScheduleNotFoundError' });
  // The controller drops the deleted key within a poll of the store's change feed.
  await eventually(
    () => failure(ow.actions.list()),
    (error) => error.statusCode === 401,
  );

  const next = await createUser(namespace);
  expect(await next.actions.list()).toEqual([]);
  expect(await next.packages.list()).toEqual([]);
  expect(await next.triggers.list()).toEqual([]);
  expect(await next.rules.list()).toEqual([]);
  // Cached copies go with the change feed too.
  await eventually(
    () => failure(next.actions.get({ name: 'hello' })),
    (error) => error.statusCode === 404,
  );
  expect((await failure(next.actions.invoke({ name: 'tools/cat', blocking: true }))).statusCode).toBe(404);
});
