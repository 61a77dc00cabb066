// Frames one activation's logs the way OpenWhisk's invoker does
// (docs/reference/openwhisk-contract.md §6.5, DockerToActivationLogStore.scala): lines up to the
// two sentinels, never the sentinels themselves, a byte limit with a truncation notice, and `%-30s
// %s: %s` formatting. Unlike OpenWhisk, the limit weighs what is stored (each formatted line as a
// JSON string), not the raw output, so a record's logs never exceed the action's `limits.logs`
// however short its lines (audit H3).
import { WHISK_MESSAGES } from '../../common/whisk-messages';
import type { LogLine, LogStream } from './log-line';

export const ACTIVATION_LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

/** OpenWhisk's notices, written as stderr lines (the texts live in common/whisk-messages.ts). */
export const LOG_NOTICES = {
  truncated: WHISK_MESSAGES.logsTruncated,
  collectionIssue: WHISK_MESSAGES.logsCollectionIssue,
  developerError: WHISK_MESSAGES.logsDeveloperError,
} as const;

export function formatLogLine(time: string, stream: LogStream, text: string): string {
  return `${time.padEnd(30)} ${stream}: ${text}`;
}

/** A notice line stamped now, as the invoker writes its own lines. */
export function formatNotice(text: string, now: Date = new Date()): string {
  return formatLogLine(now.toISOString(), 'stderr', text);
}

/** What `add` did with a line. `deferred`: its stream has already ended this activation. */
export type AddOutcome = 'taken' | 'deferred';

export class ActivationLogCollector {
  readonly #lines: string[] = [];
  readonly #limitBytes: number;
  readonly #ended: Record<LogStream, boolean> = { stdout: false, stderr: false };
  #bytes = 0;
  #truncated = false;

  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  get complete(): boolean {
    return this.#ended.stdout && this.#ended.stderr;
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  /**
   * Takes one line. A line whose stream already printed its sentinel belongs to the next
   * activation and is `deferred`. A line that ends with the sentinel (output printed without a
   * trailing newline) keeps its text and ends the stream.
   */
  add(line: LogLine): AddOutcome {
    if (this.#ended[line.stream]) return 'deferred';
    if (line.text.endsWith(ACTIVATION_LOG_SENTINEL)) {
      this.#ended[line.stream] = true;
      const before = line.text.slice(0, -ACTIVATION_LOG_SENTINEL.length);
      if (before !== '') this.#keep(line, before);
      return 'taken';
    }
    this.#keep(line, line.text);
    return 'taken';
  }

  /** Marks that lines were lost before they reached us: counts as passing the limit. */
  markOverflow(): void {
    this.#truncated = true;
  }

  #keep(line: LogLine, text: string): void {
    if (this.#truncated) return;
    const formatted = formatLogLine(line.time, line.stream, text);
    // The stored size: the line as a JSON string plus its separator.
    const bytes = Buffer.byteLength(JSON.stringify(formatted)) + 1;
    if (this.#bytes + bytes > this.#limitBytes) {
      this.#truncated = true;
      return;
    }
    this.#bytes += bytes;
    this.#lines.push(formatted);
  }

  /** The activation's lines, with the truncation notice and `notice` (if any) appended. */
  finish(notice?: string, now: Date = new Date()): string[] {
    if (this.#truncated) this.#lines.push(formatNotice(LOG_NOTICES.truncated(this.#limitBytes), now));
    if (notice !== undefined) this.#lines.push(formatNotice(notice, now));
    return this.#lines;
  }
}
