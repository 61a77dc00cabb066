// The commands of `npm run admin` (workers/admin.ts wires them to the configured store), like
// OpenWhisk's `wskadmin user`. Secrets never go on the command line by choice (audit L5): a given
// key comes from stdin or GUST_ADMIN_API_KEY, and `--key` on the command line is still taken, with
// a warning. A namespace's keys go only with its entities: `user delete` refuses while any remain
// unless `--purge` deletes them too, so a namespace created later under the same name starts empty.
import { createInterface } from 'node:readline';
import { makeAuthKey } from '../api/api-keys';
import { isAlarmTrigger } from '../api/catalog/alarm-feeds';
import { isEntityName } from '../api/entity-names';
import {
  countNamespaceEntities,
  describeCounts,
  purgeNamespaceEntities,
  totalOf,
} from '../api/namespace-entities';
import type { EntityStore } from '../store/entity-store';

export const USAGE = `usage: npm run admin -- user create <namespace> [--subject <subject>] [--key-stdin | --key -]
       npm run admin -- user list [<namespace>]
       npm run admin -- user delete <namespace> [--purge]
       npm run admin -- key delete <uuid>

  user create   prints the new API key (uuid:secret). A key of your own is read from stdin
                (--key-stdin, or --key -) or from GUST_ADMIN_API_KEY, never from the command line
                (--key <uuid:secret> still works but is seen in ps and shell history)
  user delete   deletes the namespace's keys; refuses while it has actions, packages, triggers or
                rules, which a namespace created later under the same name would inherit, unless
                --purge deletes them too (and alarm triggers' schedules). Activation records are
                kept until they expire (GUST_ACTIVATION_TTL_SECONDS)
  key delete    deletes one key; the namespace's entities stay (the next key made for it owns them)`;

export class UsageError extends Error {}

export interface AdminIo {
  entities: EntityStore;
  /** Seals new keys for actions annotated provide-api-key (api/action-keys.ts). */
  masterKey: Buffer;
  /** GUST_ADMIN_API_KEY: the key `user create` gives instead of a new one ('' = none). */
  envApiKey: string;
  /** Where `--key-stdin` reads the key (its first line). */
  stdin: NodeJS.ReadableStream;
  out: (line: string) => void;
  /** Warnings (stderr). */
  warn: (line: string) => void;
  /** Deletes the Temporal Schedule of a purged alarm trigger. */
  deleteAlarmSchedule: (namespace: string, trigger: string) => Promise<void>;
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined) throw new UsageError(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}

function flag(args: string[], name: string): boolean {
  const at = args.indexOf(name);
  if (at >= 0) args.splice(at, 1);
  return at >= 0;
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stream, terminal: false });
  try {
    for await (const line of lines) return line.trim();
    return '';
  } finally {
    lines.close();
  }
}

/** The key for `user create`: stdin, the command line (warned), the environment, or none (a new one). */
async function givenApiKey(args: string[], io: AdminIo): Promise<string | undefined> {
  const fromStdin = flag(args, '--key-stdin');
  const onCommandLine = option(args, '--key');
  if (fromStdin && onCommandLine !== undefined) throw new UsageError('give --key-stdin or --key, not both');
  if (fromStdin || onCommandLine === '-') {
    const key = await firstLine(io.stdin);
    if (key === '') throw new UsageError('no API key on stdin');
    return key;
  }
  if (onCommandLine !== undefined) {
    io.warn(
      'warning: --key puts the secret in the process list and the shell history; ' +
        'pass it on stdin (--key-stdin) or in GUST_ADMIN_API_KEY',
    );
    return onCommandLine;
  }
  return io.envApiKey === '' ? undefined : io.envApiKey;
}

export async function runAdmin(argv: readonly string[], io: AdminIo): Promise<void> {
  const args = [...argv];
  const [area, verb] = args.splice(0, 2);
  const keys = io.entities;
  if (area === 'user' && verb === 'create') {
    const subject = option(args, '--subject');
    const apiKey = await givenApiKey(args, io);
    const namespace = args[0];
    if (namespace === undefined || !isEntityName(namespace) || namespace === '_') {
      throw new UsageError('a namespace name is required (letters, digits, _ @ . & - and spaces)');
    }
    if (subject !== undefined && subject.length < 5)
      throw new UsageError('a subject has at least 5 characters');
    let created: ReturnType<typeof makeAuthKey>;
    try {
      created = makeAuthKey(namespace, { subject, apiKey, masterKey: io.masterKey });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (await keys.getAuthKey(created.record.uuid))
      throw new UsageError(`key ${created.record.uuid} already exists`);
    if ((await keys.listAuthKeys(namespace)).length === 0) {
      const left = await countNamespaceEntities(io.entities, namespace);
      if (totalOf(left) > 0)
        io.warn(
          `note: namespace '${namespace}' has no other key but holds ${describeCounts(left)}; the new key owns them`,
        );
    }
    await keys.putAuthKey(created.record);
    io.out(created.apiKey);
  } else if (area === 'user' && verb === 'list') {
    for (const key of await keys.listAuthKeys(args[0])) {
      io.out(`${key.namespace}\t${key.uuid}\t${key.subject}\t${new Date(key.created).toISOString()}`);
    }
  } else if (area === 'user' && verb === 'delete') {
    const purge = flag(args, '--purge');
    const namespace = args[0];
    if (namespace === undefined) throw new UsageError('a namespace is required');
    if (namespace === 'whisk.system')
      throw new UsageError(
        'whisk.system holds the system catalog (every controller seeds it); it is not deleted',
      );
    const owned = await keys.listAuthKeys(namespace);
    const entities = await countNamespaceEntities(io.entities, namespace);
    if (totalOf(entities) > 0 && !purge) {
      throw new UsageError(
        `namespace '${namespace}' still holds ${describeCounts(entities)}, which a namespace created later ` +
          `under this name would inherit: delete them first, or run 'user delete ${namespace} --purge' ` +
          'to delete them with its keys. Nothing was deleted.',
      );
    }
    if (owned.length === 0 && totalOf(entities) === 0)
      throw new UsageError(`namespace '${namespace}' has no keys and no entities`);
    // Keys first: no new entity can be made through them while the others go.
    for (const key of owned) await keys.deleteAuthKey(key.uuid);
    const purged = purge
      ? await purgeNamespaceEntities(io.entities, namespace, {
          beforeTriggerDelete: async (trigger) => {
            if (isAlarmTrigger(trigger)) await io.deleteAlarmSchedule(trigger.namespace, trigger.name);
          },
        })
      : undefined;
    io.out(
      `deleted ${owned.length} key(s)` +
        (purged ? ` and ${describeCounts(purged)}` : '') +
        ` of namespace '${namespace}'; its activation records stay until they expire`,
    );
    // A request through a controller that had not yet seen the keys go may have made one meanwhile.
    const late = await countNamespaceEntities(io.entities, namespace);
    if (totalOf(late) > 0)
      throw new UsageError(`namespace '${namespace}' still holds ${describeCounts(late)}: run this again`);
  } else if (area === 'key' && verb === 'delete') {
    const uuid = args[0];
    if (uuid === undefined) throw new UsageError('a key uuid is required');
    const record = await keys.getAuthKey(uuid);
    if (!record || !(await keys.deleteAuthKey(uuid))) throw new UsageError(`no key ${uuid}`);
    io.out(`deleted key ${uuid}`);
    if ((await keys.listAuthKeys(record.namespace)).length === 0) {
      const left = await countNamespaceEntities(io.entities, record.namespace);
      if (totalOf(left) > 0)
        io.warn(
          `note: namespace '${record.namespace}' has no key left and holds ${describeCounts(left)}; ` +
            `the next key made for it owns them ('user delete ${record.namespace} --purge' deletes them)`,
        );
    }
  } else {
    throw new UsageError(USAGE);
  }
}
