// Turns the base64 `code` of a binary action into a directory, as the official runtime does with
// `unzip` / `tar -xzf` (openwhisk-runtime-nodejs runner.js `extractInTmpDir`).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { readTarGz } from './untar';
import { readZip } from './unzip';

export type ArchiveType = 'zip' | 'tar.gz' | 'unsupported';

/** Sniffs the magic number as the official runtime does (`detectFileType`). */
export function detectArchiveType(archive: Buffer): ArchiveType {
  const magic = archive.subarray(0, 4).toString('hex');
  if (magic === '504b0304') return 'zip';
  if (magic === '1f8b0808' || magic === '1f8b0800') return 'tar.gz';
  return 'unsupported';
}

/** Extracts into a fresh temp directory and returns it. Rejects entries that escape it. */
export function extractArchive(archive: Buffer, type: 'zip' | 'tar.gz'): string {
  const root = mkdtempSync(join(tmpdir(), 'action-'));
  const entries = type === 'zip' ? readZip(archive) : readTarGz(archive);
  for (const entry of entries) {
    const target = resolve(root, entry.path);
    if (target !== root && !target.startsWith(root + sep))
      throw new Error(`archive entry escapes its directory: ${entry.path}`);
    if (entry.type === 'directory') {
      mkdirSync(target, { recursive: true });
    } else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.data, { mode: entry.mode & 0o777 });
    }
  }
  return root;
}
