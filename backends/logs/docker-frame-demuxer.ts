// Splits Docker's multiplexed attach/logs stream (non-TTY containers) into stdout and stderr
// payloads. Each frame is an 8-byte header [stream, 0, 0, 0, size as uint32 BE] and `size` bytes;
// frames do not line up with the chunks a socket delivers.
// https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerAttach
import type { LogStream } from './log-line';

const HEADER_BYTES = 8;
const STREAMS: Record<number, LogStream | undefined> = { 1: 'stdout', 2: 'stderr' };

export class DockerFrameDemuxer {
  #pending: Buffer = Buffer.alloc(0);

  /** Feeds one chunk; calls `onFrame` for every complete frame (stdin frames are ignored). */
  push(chunk: Buffer, onFrame: (stream: LogStream, payload: Buffer) => void): void {
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (buffer.length >= HEADER_BYTES) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < HEADER_BYTES + size) break;
      const stream = STREAMS[buffer[0]!];
      if (stream !== undefined) onFrame(stream, buffer.subarray(HEADER_BYTES, HEADER_BYTES + size));
      buffer = buffer.subarray(HEADER_BYTES + size);
    }
    // Copy the remainder so the (possibly large) chunk it came from can be collected.
    this.#pending = Buffer.from(buffer);
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
