// Audit L6: the SQLite store holds every tenant's code, results and key hashes, so other local
// users must not read it: the file (and SQLite's -wal and -shm beside it) is 0600, a directory
// made for it 0700, and a file made before this rule is tightened on open.
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '../../store/sqlite/open-database';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gust-sqlite-mode-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

test('a new database and its directory are for their owner only', () => {
  const path = join(dir, 'state', 'gust.sqlite');
  const db = openSqliteDatabase(path);
  db.prepare(
    "INSERT INTO entity_changes (at, collection, namespace, name) VALUES (1, 'actions', 'a', 'b')",
  ).run();
  expect([mode(join(dir, 'state')), mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual([
    '700',
    '600',
    '600',
    '600',
  ]);
  db.close();
});

test('a database made readable before is tightened when opened', () => {
  const path = join(dir, 'gust.sqlite');
  writeFileSync(path, '');
  chmodSync(path, 0o644);
  openSqliteDatabase(path).close();
  expect(mode(path)).toBe('600');
});
