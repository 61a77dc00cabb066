// Opens the configured entity and activation stores (SQLite embedded default, or Cassandra).
import type { GustConfig } from '../common/config';
import type { ActivationStore } from './activation-store';
import { CassandraActivationStore } from './cassandra/cassandra-activation-store';
import { createCassandraClient } from './cassandra/cassandra-client';
import { CassandraEntityStore } from './cassandra/cassandra-entity-store';
import { migrateCassandraSchema } from './cassandra/cassandra-schema';
import type { EntityStore } from './entity-store';
import { openSqliteDatabase } from './sqlite/open-database';
import { SqliteActivationStore } from './sqlite/sqlite-activation-store';
import { SqliteEntityStore } from './sqlite/sqlite-entity-store';

export interface Stores {
  entities: EntityStore;
  activations: ActivationStore;
  close(): Promise<void>;
}

export async function openStores(store: GustConfig['store']): Promise<Stores> {
  if (store.kind === 'cassandra') {
    const client = createCassandraClient({
      contactPoints: store.cassandraContactPoints,
      keyspace: store.cassandraKeyspace,
      port: store.cassandraPort,
      localDataCenter: store.cassandraDataCenter,
    });
    await client.connect();
    await migrateCassandraSchema(client, store.cassandraKeyspace);
    return {
      entities: new CassandraEntityStore(client, store.cassandraKeyspace),
      activations: new CassandraActivationStore(client, store.cassandraKeyspace, {
        ttlSeconds: store.activationTtlSeconds,
      }),
      close: () => client.shutdown(),
    };
  }
  const db = openSqliteDatabase(store.sqlitePath);
  return {
    entities: new SqliteEntityStore(db),
    activations: new SqliteActivationStore(db, { ttlSeconds: store.activationTtlSeconds }),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
