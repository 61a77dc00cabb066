// RecordIO, the framing of the Mesos v1 scheduler event stream: each record is its length in bytes
// as decimal digits, a newline, then that many bytes (here: one JSON-encoded Event). Chunk
// boundaries of the HTTP stream are arbitrary, so the decoder keeps partial records across pushes.
// https://github.com/apache/mesos/blob/master/docs/recordio.md
// No Node APIs beyond Uint8Array/TextDecoder, so tests and the simulator share it.

/** Records longer than this are refused (a corrupt length would otherwise buffer forever). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

const NEWLINE = 0x0a;

export class RecordIOError extends Error {
  readonly code = 'GUST_ERR_MESOS_RECORDIO';
  constructor(message: string) {
    super(message);
    this.name = 'RecordIOError';
  }
}

/** Encodes one record: `<byte length>\n<data>`. */
export function encodeRecord(data: string | Uint8Array): Uint8Array {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const header = new TextEncoder().encode(`${bytes.length}\n`);
  const out = new Uint8Array(header.length + bytes.length);
  out.set(header, 0);
  out.set(bytes, header.length);
  return out;
}

export class RecordIODecoder {
  #buffer: Uint8Array = new Uint8Array(0);
  /** Length of the record being read, once its header line is complete. */
  #expected: number | null = null;
  readonly #maxRecordBytes: number;

  constructor(options: { maxRecordBytes?: number } = {}) {
    this.#maxRecordBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
  }

  /** Feeds one chunk; returns every record it completes, in order. Throws RecordIOError on a bad header. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    const records: Uint8Array[] = [];
    let start = 0;
    for (;;) {
      if (this.#expected === null) {
        const newline = this.#buffer.indexOf(NEWLINE, start);
        if (newline === -1) {
          if (this.#buffer.length - start > 20)
            throw new RecordIOError('record header longer than 20 digits');
          break;
        }
        this.#expected = parseLength(this.#buffer.subarray(start, newline), this.#maxRecordBytes);
        start = newline + 1;
      }
      if (this.#buffer.length - start < this.#expected) break;
      records.push(this.#buffer.slice(start, start + this.#expected));
      start += this.#expected;
      this.#expected = null;
    }
    this.#buffer = start === 0 ? this.#buffer : this.#buffer.slice(start);
    return records;
  }

  /** True between records: a stream that ends now ended cleanly. */
  get atRecordBoundary(): boolean {
    return this.#buffer.length === 0 && this.#expected === null;
  }
}

function parseLength(header: Uint8Array, max: number): number {
  const text = new TextDecoder().decode(header).trim();
  if (!/^\d{1,20}$/.test(text))
    throw new RecordIOError(`record header is not a length: '${text.slice(0, 40)}'`);
  const length = Number(text);
  if (length === 0) throw new RecordIOError('record of length 0 (Mesos never sends one)');
  if (length > max) throw new RecordIOError(`record of ${length} bytes exceeds the ${max}-byte limit`);
  return length;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
