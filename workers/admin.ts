// `npm run admin -- …`: namespaces and API keys, like OpenWhisk's `wskadmin user` (the commands and
// their usage: workers/admin-cli.ts). Works on the configured store (GUST_STORE, GUST_SQLITE_PATH,
// GUST_CASSANDRA_*); new keys get a copy sealed under GUST_KEY_ENCRYPTION_KEY (actions annotated
// provide-api-key receive it). Controllers notice deleted keys and entities through the store's
// change feed. Temporal (GUST_TEMPORAL_*) is reached only to delete the schedules of purged alarms.
import type { NativeConnection } from '@temporalio/worker';
import { masterKeyOf } from '../api/action-keys';
import { deleteAlarmSchedule } from '../api/catalog/alarm-feeds';
import { loadConfig } from '../common/config';
import { openStores } from '../store/open-stores';
import { DEFAULT_SCOPE } from '../workflows/scope';
import { runAdmin, UsageError } from './admin-cli';
import { connectTemporal, createTemporalClient } from './temporal';

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  const masterKey = masterKeyOf(config.controller.keyEncryptionKey, config.controller.production);
  const stores = await openStores(config.store);
  let temporal: Promise<NativeConnection> | undefined;
  try {
    await runAdmin(argv, {
      entities: stores.entities,
      masterKey,
      envApiKey: config.admin.apiKey,
      stdin: process.stdin,
      // A CLI for a human at a terminal: results on stdout, problems on stderr, as plain text.
      out: (line) => console.log(line),
      warn: (line) => console.error(line),
      deleteAlarmSchedule: async (namespace, trigger) => {
        temporal ??= connectTemporal(config);
        await deleteAlarmSchedule(
          createTemporalClient(await temporal, config),
          DEFAULT_SCOPE,
          namespace,
          trigger,
        );
      },
    });
  } finally {
    await stores.close();
    await (await temporal?.catch(() => undefined))?.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  process.exit(error instanceof UsageError ? 2 : 1);
});
