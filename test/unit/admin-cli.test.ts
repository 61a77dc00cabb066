// Audit L5: `npm run admin` takes a given key from stdin or GUST_ADMIN_API_KEY (a key on the
// command line is seen in `ps` and kept in shell history, so it is warned about), and `user
// delete` does not leave a namespace's entities to whoever gets the name next: it refuses while
// any remain, and `--purge` deletes them (alarm schedules first) with the keys. On SQLite here;
// test/integration/admin-user-delete.test.ts runs it on Cassandra through a whole Gust.
import { Readable } from 'node:stream';
import { DEVELOPMENT_MASTER_KEY } from '../../api/action-keys';
import { makeAuthKey, parseApiKey, secretMatches } from '../../api/api-keys';
import { countNamespaceEntities, totalOf } from '../../api/namespace-entities';
import type { EntityStore } from '../../store/entity-store';
import { openSqliteDatabase } from '../../store/sqlite/open-database';
import { SqliteEntityStore } from '../../store/sqlite/sqlite-entity-store';
import { runAdmin, USAGE, type AdminIo } from '../../workers/admin-cli';

const GIVEN_KEY = `${'1f2e3d4c-0000-4000-8000-00000000abcd'}:${'s'.repeat(64)}`;

let store: EntityStore;
let io: AdminIo & { lines: string[]; warnings: string[]; schedulesDeleted: string[] };

function adminIo(stdin = ''): typeof io {
  const lines: string[] = [];
  const warnings: string[] = [];
  const schedulesDeleted: string[] = [];
  return {
    entities: store,
    masterKey: DEVELOPMENT_MASTER_KEY,
    envApiKey: '',
    stdin: Readable.from(stdin === '' ? [] : [stdin]),
    out: (line) => lines.push(line),
    warn: (line) => warnings.push(line),
    deleteAlarmSchedule: async (namespace, trigger) => {
      schedulesDeleted.push(`${namespace}/${trigger}`);
    },
    lines,
    warnings,
    schedulesDeleted,
  };
}

beforeEach(() => {
  store = new SqliteEntityStore(openSqliteDatabase(':memory:'), { ownsDb: true });
  io = adminIo();
});
afterEach(() => store.close());

/** The stored key of `apiKey` exists, belongs to `namespace` and matches its secret. */
async function expectStoredKey(apiKey: string, namespace: string): Promise<void> {
  const { uuid, secret } = parseApiKey(apiKey)!;
  const record = await store.getAuthKey(uuid);
  expect(record?.namespace).toBe(namespace);
  expect(secretMatches(record!, secret)).toBe(true);
}

describe('user create: a key of your own stays off the command line', () => {
  it.each([
    ['--key-stdin', ['--key-stdin']],
    ['--key -', ['--key', '-']],
  ])('reads it from stdin with %s', async (_name, how) => {
    io = adminIo(`${GIVEN_KEY}\n`);
    await runAdmin(['user', 'create', 'alice', ...how], io);
    expect(io.lines).toEqual([GIVEN_KEY]);
    expect(io.warnings).toEqual([]);
    await expectStoredKey(GIVEN_KEY, 'alice');
  });

  it('reads it from GUST_ADMIN_API_KEY', async () => {
    io = { ...adminIo(), envApiKey: GIVEN_KEY };
    await runAdmin(['user', 'create', 'alice'], io);
    expect(io.lines).toEqual([GIVEN_KEY]);
    await expectStoredKey(GIVEN_KEY, 'alice');
  });

  it('still takes --key on the command line, with a warning on stderr', async () => {
    await runAdmin(['user', 'create', 'alice', '--key', GIVEN_KEY], io);
    expect(io.lines).toEqual([GIVEN_KEY]);
    expect(io.warnings).toEqual([expect.stringMatching(/process list.*--key-stdin.*GUST_ADMIN_API_KEY/)]);
    await expectStoredKey(GIVEN_KEY, 'alice');
  });

  it('makes a new key when none is given', async () => {
    await runAdmin(['user', 'create', 'alice'], io);
    expect(io.lines).toHaveLength(1);
    expect(io.lines[0]).not.toBe(GIVEN_KEY);
    await expectStoredKey(io.lines[0]!, 'alice');
  });

  it.each([
    ['an empty stdin', '', ['--key-stdin'], /no API key on stdin/],
    ['a malformed key on stdin', 'not-a-key\n', ['--key-stdin'], /uuid/],
    ['both ways at once', `${GIVEN_KEY}\n`, ['--key-stdin', '--key', GIVEN_KEY], /not both/],
  ])('refuses %s, storing nothing', async (_case, stdin, how, message) => {
    await expect(runAdmin(['user', 'create', 'alice', ...how], adminIo(stdin))).rejects.toThrow(message);
    expect(await store.listAuthKeys('alice')).toEqual([]);
  });

  it('documents all of it in its usage text', () => {
    expect(USAGE).toMatch(/--key-stdin/);
    expect(USAGE).toMatch(/GUST_ADMIN_API_KEY/);
    expect(USAGE).toMatch(/--purge/);
    expect(USAGE).toMatch(/[Aa]ctivation records are\s+kept until they expire/);
  });
});

/** alice: a plain action, a package with an action, an alarm trigger, a plain trigger, a rule. */
async function populate(namespace: string): Promise<void> {
  const at = Date.now();
  const doc = (ns: string, name: string, extra: object = {}) => ({
    namespace: ns,
    name,
    updated: at,
    ...extra,
  });
  await store.put('actions', doc(namespace, 'hello'), 'create');
  await store.put('packages', doc(namespace, 'tools'), 'create');
  await store.put('actions', doc(`${namespace}/tools`, 'cat'), 'create');
  const feed = { annotations: [{ key: 'feed', value: '/whisk.system/alarms/interval' }] };
  await store.put('triggers', doc(namespace, 'every-minute', feed), 'create');
  await store.put('triggers', doc(namespace, 'manual', { annotations: [] }), 'create');
  await store.put('rules', doc(namespace, 'on-manual'), 'create');
}

const total = async (namespace: string) => totalOf(await countNamespaceEntities(store, namespace));

describe('user delete: a namespace created later under the same name inherits nothing', () => {
  beforeEach(async () => {
    await runAdmin(['user', 'create', 'alice'], io);
    await runAdmin(['user', 'create', 'alicia'], io);
    await populate('alice');
    await populate('alicia');
  });

  it('refuses while the namespace holds entities, and deletes nothing', async () => {
    await expect(runAdmin(['user', 'delete', 'alice'], io)).rejects.toThrow(
      /still holds 1 rule\(s\), 2 trigger\(s\), 2 action\(s\), 1 package\(s\).*--purge.*Nothing was deleted/,
    );
    expect(await store.listAuthKeys('alice')).toHaveLength(1);
    expect(await total('alice')).toBe(6);
  });

  it('with --purge deletes its keys, every entity and its alarm schedules, and nobody else’s', async () => {
    await runAdmin(['user', 'delete', 'alice', '--purge'], io);
    expect(io.lines.at(-1)).toBe(
      "deleted 1 key(s) and 1 rule(s), 2 trigger(s), 2 action(s), 1 package(s) of namespace 'alice'; its activation records stay until they expire",
    );
    expect(await store.listAuthKeys('alice')).toEqual([]);
    expect(await total('alice')).toBe(0);
    expect(io.schedulesDeleted).toEqual(['alice/every-minute']);
    expect(await store.listAuthKeys('alicia')).toHaveLength(1);
    expect(await total('alicia')).toBe(6);

    // The next owner of the name starts empty, and is not told of anything left.
    await runAdmin(['user', 'create', 'alice'], io);
    expect(io.warnings).toEqual([]);
    expect(await total('alice')).toBe(0);
  });

  it('records every deletion in the change feed, so controllers drop their cached copies', async () => {
    const before = new Set((await store.changesSince(0)).map((c) => c.id));
    await runAdmin(['user', 'delete', 'alice', '--purge'], io);
    const changed = (await store.changesSince(0))
      .filter((c) => !before.has(c.id))
      .map((c) => `${c.collection}:${c.namespace}/${c.name}`);
    expect(changed).toEqual(
      expect.arrayContaining([
        'actions:alice/hello',
        'actions:alice/tools/cat',
        'packages:alice/tools',
        'triggers:alice/every-minute',
        'triggers:alice/manual',
        'rules:alice/on-manual',
      ]),
    );
    expect(changed.filter((c) => c.startsWith('authKeys:'))).toHaveLength(1);
  });

  it('keeps a trigger whose schedule could not be deleted, for the next run', async () => {
    io.deleteAlarmSchedule = () => Promise.reject(new Error('Temporal is down'));
    await expect(runAdmin(['user', 'delete', 'alice', '--purge'], io)).rejects.toThrow('Temporal is down');
    expect(await store.get('triggers', 'alice', 'every-minute')).toBeDefined();
    io.deleteAlarmSchedule = async () => {};
    await runAdmin(['user', 'delete', 'alice', '--purge'], io);
    expect(await total('alice')).toBe(0);
  });

  it('purges what an earlier key deletion left behind', async () => {
    const [key] = await store.listAuthKeys('alice');
    await runAdmin(['key', 'delete', key!.uuid], io);
    expect(io.warnings).toEqual([expect.stringMatching(/no key left and holds .*--purge/)]);
    await runAdmin(['user', 'create', 'alice'], io);
    expect(io.warnings.at(-1)).toMatch(/has no other key but holds 1 rule\(s\).*the new key owns them/);
    await runAdmin(['user', 'delete', 'alice', '--purge'], io);
    expect(await total('alice')).toBe(0);
  });

  it('deletes the keys of a namespace without entities as before', async () => {
    await store.putAuthKey(makeAuthKey('bob').record);
    await runAdmin(['user', 'delete', 'bob'], io);
    expect(io.lines.at(-1)).toMatch(/^deleted 1 key\(s\) of namespace 'bob'/);
    expect(await store.listAuthKeys('bob')).toEqual([]);
  });

  it('refuses an unknown namespace and the system catalog', async () => {
    await expect(runAdmin(['user', 'delete', 'nobody'], io)).rejects.toThrow(/no keys and no entities/);
    await expect(runAdmin(['user', 'delete', 'whisk.system', '--purge'], io)).rejects.toThrow(
      /system catalog/,
    );
  });
});
