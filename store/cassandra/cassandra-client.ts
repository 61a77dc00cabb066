// Builds the cassandra-driver client the Cassandra stores share (docs/reference/cassandra.md §5).
import { Client, policies, types } from 'cassandra-driver';

export interface CassandraOptions {
  contactPoints: string[];
  keyspace: string;
  /** Replication factor for a keyspace Gust creates itself (SimpleStrategy). @default 1 */
  replicationFactor?: number;
  /** CQL port. @default 9042 */
  port?: number;
  /** @default 'datacenter1' (SimpleSnitch's data centre) */
  localDataCenter?: string;
}

/** A client with no keyspace bound: migrations create the keyspace first, queries name it explicitly. */
export function createCassandraClient(options: CassandraOptions): Client {
  return new Client({
    contactPoints: options.contactPoints,
    // SimpleSnitch's data centre; the driver refuses contact points without it.
    localDataCenter: options.localDataCenter ?? 'datacenter1',
    // Cassandra 5.0 speaks v5 but the driver does not: ask for v4 at once and skip a failed handshake.
    protocolOptions: { port: options.port ?? 9042, maxVersion: types.protocolVersion.v4 },
    // Short outages should heal in seconds, not after the default back-off of up to 10 minutes.
    policies: { reconnection: new policies.reconnection.ExponentialReconnectionPolicy(250, 4000, false) },
    socketOptions: { connectTimeout: 3000, readTimeout: 6000 },
    queryOptions: { prepare: true, consistency: types.consistencies.localQuorum },
  });
}
