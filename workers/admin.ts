// `npm run admin -- …`: namespaces and API keys, like OpenWhisk's `wskadmin user`.
//   user create <namespace> [--subject S] [--key uuid:secret]   prints the new API key
//   user list [namespace]                                       namespaces and key uuids
//   user delete <namespace>                                     deletes all of its keys
//   key delete <uuid>                                           deletes one key
// Works on the configured store (GUST_STORE, GUST_SQLITE_PATH, GUST_CASSANDRA_*); new keys get a
// copy sealed under GUST_KEY_ENCRYPTION_KEY (actions annotated provide-api-key receive it). Controllers
// notice deleted keys within their revalidation interval (GUST_AUTH_REVALIDATE_MS, 60 s by default).
import { masterKeyOf } from '../api/action-keys';
import { makeAuthKey } from '../api/api-keys';
import { isEntityName } from '../api/entity-names';
import { loadConfig } from '../common/config';
import { openStores } from '../store/open-stores';

const USAGE = `usage: npm run admin -- user create <namespace> [--subject <subject>] [--key <uuid:secret>]
       npm run admin -- user list [<namespace>]
       npm run admin -- user delete <namespace>
       npm run admin -- key delete <uuid>`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined) throw new UsageError(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}

async function run(argv: string[]): Promise<void> {
  const args = [...argv];
  const [area, verb] = args.splice(0, 2);
  const config = loadConfig();
  const masterKey = masterKeyOf(config.controller.keyEncryptionKey, config.controller.production);
  const stores = await openStores(config.store);
  try {
    const keys = stores.entities;
    if (area === 'user' && verb === 'create') {
      const subject = option(args, '--subject');
      const apiKey = option(args, '--key');
      const namespace = args[0];
      if (namespace === undefined || !isEntityName(namespace) || namespace === '_') {
        throw new UsageError('a namespace name is required (letters, digits, _ @ . & - and spaces)');
      }
      if (subject !== undefined && subject.length < 5)
        throw new UsageError('a subject has at least 5 characters');
      const created = makeAuthKey(namespace, { subject, apiKey, masterKey });
      if (await keys.getAuthKey(created.record.uuid))
        throw new UsageError(`key ${created.record.uuid} already exists`);
      await keys.putAuthKey(created.record);
      console.log(created.apiKey);
    } else if (area === 'user' && verb === 'list') {
      for (const key of await keys.listAuthKeys(args[0])) {
        console.log(`${key.namespace}\t${key.uuid}\t${key.subject}\t${new Date(key.created).toISOString()}`);
      }
    } else if (area === 'user' && verb === 'delete') {
      const namespace = args[0];
      if (namespace === undefined) throw new UsageError('a namespace is required');
      const owned = await keys.listAuthKeys(namespace);
      if (owned.length === 0) throw new UsageError(`namespace '${namespace}' has no keys`);
      for (const key of owned) await keys.deleteAuthKey(key.uuid);
      console.log(`deleted ${owned.length} key(s) of namespace '${namespace}'`);
    } else if (area === 'key' && verb === 'delete') {
      const uuid = args[0];
      if (uuid === undefined) throw new UsageError('a key uuid is required');
      if (!(await keys.deleteAuthKey(uuid))) throw new UsageError(`no key ${uuid}`);
      console.log(`deleted key ${uuid}`);
    } else {
      throw new UsageError(USAGE);
    }
  } finally {
    await stores.close();
  }
}

run(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  process.exit(error instanceof UsageError ? 2 : 1);
});
