// Opens (and migrates) the embedded SQLite database shared by the two SQLite stores.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

// Idempotent: every statement is IF NOT EXISTS, so opening an existing file is a no-op.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS entities (
  collection TEXT NOT NULL,
  root_namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  updated INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (collection, root_namespace, name)
);
CREATE TABLE IF NOT EXISTS auth_keys (
  uuid TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_keys_by_namespace ON auth_keys (namespace);
CREATE TABLE IF NOT EXISTS entity_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  collection TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entity_changes_by_time ON entity_changes (at);
CREATE TABLE IF NOT EXISTS activations (
  namespace TEXT NOT NULL,
  activation_id TEXT NOT NULL,
  name TEXT NOT NULL,
  start INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (namespace, activation_id)
);
CREATE INDEX IF NOT EXISTS activations_by_start ON activations (namespace, start DESC);
CREATE INDEX IF NOT EXISTS activations_by_name ON activations (namespace, name, start DESC);
CREATE INDEX IF NOT EXISTS activations_by_expiry ON activations (expires);
`;

export type SqliteDatabase = Database.Database;

/**
 * `path` may be `:memory:`. The file holds every tenant's code, results and key hashes: it is made
 * readable by its owner only (audit L6), and SQLite gives its -wal and -shm files the same mode.
 */
export function openSqliteDatabase(path: string): SqliteDatabase {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600); // one made before this rule
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: durable against process crashes, may lose the last commits on power loss.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}
