// Turns the base64 `code` of a binary action into a directory, as the official runtime does with
// `unzip` / `tar -xzf` (openwhisk-runtime-nodejs runner.js `extractInTmpDir`).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { readTarGz } from './untar';
import { readZip } from './unzip';

export type ArchiveType = 'zip' | 'tar.gz' | 'unsupported';

/** The most an action archive may hold once decompressed (GUST_MAX_ARCHIVE_BYTES, default 256 MiB). */
export const MAX_ARCHIVE_BYTES = Number(process.env.GUST_MAX_ARCHIVE_BYTES ?? 256 * 1024 * 1024);

/** Sniffs the magic number as the official runtime does (`detectFileType`). */
export function detectArchiveType(archive: Buffer): ArchiveType {
  const magic = archive.subarray(0, 4).toString('hex');
  if (magic === '504b0304') return 'zip';
  if (magic === '1f8b0808' || magic === '1f8b0800') return 'tar.gz';
  return 'unsupported';
}

/** Extracts into a fresh temp directory and returns it. Rejects entries that escape it. */
export function extractArchive(
  archive: Buffer,
  type: 'zip' | 'tar.gz',
  maxBytes: number = MAX_ARCHIVE_BYTES,
): string {
  const entries = type === 'zip' ? readZip(archive, maxBytes) : readTarGz(archive, maxBytes);
  const root = mkdtempSync(join(tmpdir(), 'action-'));
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
