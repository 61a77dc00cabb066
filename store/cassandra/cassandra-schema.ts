// Gust's Cassandra schema, created by Gust itself. Every statement is IF NOT EXISTS, so running
// the migration again (on every start, from many controllers) is a no-op.
import type { Client } from 'cassandra-driver';

/** Activations are listed per namespace and day, so no partition grows without bound. */
export const DAY_MS = 86_400_000;
export const dayOf = (epochMs: number): number => Math.floor(epochMs / DAY_MS);

function schemaStatements(keyspace: string, replicationFactor: number): string[] {
  const ks = keyspace;
  return [
    `CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replicationFactor}}`,
    // One table for all four collections: same shape, and a namespace listing is one partition.
    `CREATE TABLE IF NOT EXISTS ${ks}.entities (
       collection text, root_namespace text, name text, updated bigint, doc text,
       PRIMARY KEY ((collection, root_namespace), name))`,
    `CREATE TABLE IF NOT EXISTS ${ks}.auth_keys (uuid text PRIMARY KEY, namespace text, doc text)`,
    // Recent entity and key writes, one partition per minute, read by every controller's change feed.
    `CREATE TABLE IF NOT EXISTS ${ks}.entity_changes (
       minute bigint, at bigint, id timeuuid, collection text, namespace text, name text,
       PRIMARY KEY ((minute), at, id))
     WITH default_time_to_live = 3600`,
    // Records whose id carries its creation time (common/activation-id.ts), one partition per
    // namespace and second: a flush's records are a few partitions' mutations, not one each.
    `CREATE TABLE IF NOT EXISTS ${ks}.activations_by_second (
       namespace text, second bigint, activation_id text, doc text,
       PRIMARY KEY ((namespace, second), activation_id))`,
    // Records with any other id (OpenWhisk's random ones, written before).
    `CREATE TABLE IF NOT EXISTS ${ks}.activations_by_id (
       namespace text, activation_id text, doc text,
       PRIMARY KEY ((namespace, activation_id)))`,
    // The listing's index: per namespace (and per name), for each second of `start`, the ids and
    // starts of the records that started in it, one cell per flush (JSON [[id, start], …], named
    // by a hash of it). Cassandra's work goes by cells: a row per record, or a cell, was most of
    // its work per record. `name` '' is the row of every name.
    `CREATE TABLE IF NOT EXISTS ${ks}.activation_starts (
       namespace text, name text, day int, second bigint, starts map<text, text>,
       PRIMARY KEY ((namespace, name, day), second))
     WITH CLUSTERING ORDER BY (second DESC)`,
    // A listing row per record, as versions before 2026-12-02 wrote them: read (not written) until
    // the records in them have expired.
    `CREATE TABLE IF NOT EXISTS ${ks}.activations_by_namespace (
       namespace text, day int, start bigint, activation_id text, doc text,
       PRIMARY KEY ((namespace, day), start, activation_id))
     WITH CLUSTERING ORDER BY (start DESC, activation_id DESC)`,
    `CREATE TABLE IF NOT EXISTS ${ks}.activations_by_name (
       namespace text, name text, day int, start bigint, activation_id text, doc text,
       PRIMARY KEY ((namespace, name, day), start, activation_id))
     WITH CLUSTERING ORDER BY (start DESC, activation_id DESC)`,
  ];
}

export async function migrateCassandraSchema(
  client: Client,
  keyspace: string,
  replicationFactor = 1,
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,47}$/.test(keyspace))
    throw new Error(`invalid Cassandra keyspace name '${keyspace}'`);
  for (const cql of schemaStatements(keyspace, replicationFactor)) {
    await client.execute(cql);
  }
  // The driver waits for schema agreement after each DDL statement (maxSchemaAgreementWaitSeconds).
}
