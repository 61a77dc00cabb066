// A minimal tar reader (ustar, GNU long names, pax paths) for gzipped action archives.
import { gunzipSync } from 'node:zlib';
import type { ArchiveEntry } from './unzip';

const BLOCK = 512;

function readString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul === -1 ? length : nul);
}

function readOctal(block: Buffer, start: number, length: number): number {
  const text = readString(block, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** `path` records of a pax extended header (`<len> path=<value>\n`). */
function paxPath(data: Buffer): string | undefined {
  for (const record of data.toString('utf8').split('\n')) {
    const match = /^\d+ path=(.*)$/.exec(record);
    if (match) return match[1];
  }
  return undefined;
}

/** `maxBytes`: the most the archive may hold once decompressed (a gzip bomb stops there, audit L3). */
export function readTarGz(archive: Buffer, maxBytes: number): ArchiveEntry[] {
  // gunzipSync throws a RangeError past maxOutputLength: it never allocates more.
  const tar = gunzipSync(archive, { maxOutputLength: maxBytes });
  const entries: ArchiveEntry[] = [];
  let longName: string | undefined;
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const size = readOctal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const data = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'L') {
      longName = readString(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    const prefix = readString(header, 345, 155);
    const name = readString(header, 0, 100);
    const path = longName ?? (prefix ? `${prefix}/${name}` : name);
    longName = undefined;
    const mode = readOctal(header, 100, 8) || 0o644;
    if (type === '0' || type === '\0') entries.push({ path, type: 'file', mode, data: Buffer.from(data) });
    else if (type === '5') entries.push({ path, type: 'directory', mode, data: Buffer.alloc(0) });
    // Links, devices and global pax headers are skipped: an action archive needs none of them.
  }
  return entries;
}
