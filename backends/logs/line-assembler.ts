// Reassembles lines per stream from pieces that may split or join lines (pipe chunks, docker's
// 16 KiB partial log entries). A line's time is the time of its first piece. A line longer than
// `maxLineChars` is passed on in pieces of that size, so output without newlines cannot grow one
// string without bound (audit H2).
import type { LogLine, LogStream } from './log-line';

/** Longest line kept in one piece. @default 1 Mi characters */
export const MAX_LINE_CHARS = 1024 * 1024;

interface Partial {
  text: string;
  time: string;
}

export class LineAssembler {
  readonly #partial: Record<LogStream, Partial | undefined> = { stdout: undefined, stderr: undefined };
  readonly #maxLineChars: number;

  constructor(options: { maxLineChars?: number } = {}) {
    this.#maxLineChars = options.maxLineChars ?? MAX_LINE_CHARS;
  }

  push(stream: LogStream, text: string, time: string, onLine: (line: LogLine) => void): void {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const partial = this.#partial[stream];
      const piece = text.slice(start, newline);
      this.#partial[stream] = undefined;
      onLine({ stream, time: partial?.time ?? time, text: partial ? partial.text + piece : piece });
      start = newline + 1;
    }
    if (start < text.length) {
      const partial = this.#partial[stream];
      let rest = partial ? partial.text + text.slice(start) : text.slice(start);
      const lineTime = partial?.time ?? time;
      while (rest.length >= this.#maxLineChars) {
        onLine({ stream, time: lineTime, text: rest.slice(0, this.#maxLineChars) });
        rest = rest.slice(this.#maxLineChars);
      }
      this.#partial[stream] = rest === '' ? undefined : { text: rest, time: lineTime };
    }
  }

  /** Emits unterminated lines (the stream ended). */
  flush(onLine: (line: LogLine) => void): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const partial = this.#partial[stream];
      if (partial) onLine({ stream, time: partial.time, text: partial.text });
      this.#partial[stream] = undefined;
    }
  }
}

/** Splits docker's `timestamps=1` prefix off a frame: `<RFC3339Nano> <text>`. */
export function splitDockerTimestamp(payload: string): { time: string; text: string } {
  const space = payload.indexOf(' ');
  return space === -1
    ? { time: payload, text: '' }
    : { time: payload.slice(0, space), text: payload.slice(space + 1) };
}
