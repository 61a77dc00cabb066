// A minimal zip reader (stored and deflated entries) so the image needs no `unzip` binary.
// Format: PKWARE APPNOTE.TXT; we trust the central directory, as `unzip` does.
import { inflateRawSync } from 'node:zlib';

export interface ArchiveEntry {
  path: string;
  type: 'file' | 'directory';
  mode: number;
  data: Buffer;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const lowest = Math.max(0, zip.length - 22 - 0xffff);
  for (let i = zip.length - 22; i >= lowest; i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) return i;
  }
  throw new Error('not a zip archive: no end of central directory record');
}

/** `maxBytes`: the most all entries may hold once inflated (a zip bomb stops there, audit L3). */
export function readZip(zip: Buffer, maxBytes: number): ArchiveEntry[] {
  const end = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(end + 10);
  let budget = maxBytes;
  let offset = zip.readUInt32LE(end + 16);
  const entries: ArchiveEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER)
      throw new Error('corrupt zip: bad central directory');
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const externalAttributes = zip.readUInt32LE(offset + 38);
    const localOffset = zip.readUInt32LE(offset + 42);
    const path = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;

    if (zip.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER)
      throw new Error(`corrupt zip: bad local header for ${path}`);
    const dataStart =
      localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    // Unix permissions live in the high 16 bits when the archive was made on Unix.
    const mode = externalAttributes >>> 16 || 0o644;
    if (path.endsWith('/')) {
      entries.push({ path, type: 'directory', mode: 0o755, data: Buffer.alloc(0) });
    } else if (method === METHOD_STORED || method === METHOD_DEFLATED) {
      if (budget <= 0) throw new RangeError(`the archive holds more than ${maxBytes} bytes`);
      // inflateRawSync throws a RangeError past maxOutputLength: it never allocates more.
      const data = method === METHOD_STORED ? raw : inflateRawSync(raw, { maxOutputLength: budget });
      if (data.length > budget) throw new RangeError(`the archive holds more than ${maxBytes} bytes`);
      budget -= data.length;
      entries.push({ path, type: 'file', mode, data });
    } else {
      throw new Error(`unsupported zip compression method ${method} for ${path}`);
    }
  }
  return entries;
}
