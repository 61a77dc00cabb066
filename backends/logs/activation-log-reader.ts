// The ActivationLogReader every backend hands out: a source (docker's log stream, a child's pipes)
// pushes lines in; `next` frames them one activation at a time. The source is always drained, so
// a slow or absent reader never blocks the action's writes; past `backlogLimitBytes` queued lines
// are dropped (the activation that owns them reports truncated logs) but sentinels are kept. Each
// queued line also counts its overhead, so a flood of empty lines is bounded too (audit H2).
import type { ActivationLogReader, LogCollectOptions } from '../backend';
import { ACTIVATION_LOG_SENTINEL, ActivationLogCollector, LOG_NOTICES } from './activation-log-collector';
import type { LogLine } from './log-line';

/** Stands in the queue for lines dropped because the backlog was full. */
const OVERFLOW = null;
type Item = LogLine | typeof OVERFLOW;

/** Without sentinels, an activation's output is over once the stream has been quiet this long. */
const QUIET_MS = 100;
/** What one queued line costs besides its text (the LogLine object, its time string, the slot). */
const LINE_OVERHEAD_BYTES = 96;
const cost = (line: LogLine): number => line.text.length + LINE_OVERHEAD_BYTES;

export class QueuedActivationLogReader implements ActivationLogReader {
  #queue: Item[] = [];
  #head = 0;
  #queuedBytes = 0;
  #ended = false;
  #wake: (() => void) | undefined = undefined;
  readonly #backlogLimitBytes: number;
  readonly #onClose: () => void;

  constructor(options: { backlogLimitBytes?: number; onClose?: () => void } = {}) {
    this.#backlogLimitBytes = options.backlogLimitBytes ?? 32 * 1024 * 1024;
    this.#onClose = options.onClose ?? (() => undefined);
  }

  /** Called by the source for every complete line. */
  push(line: LogLine): void {
    if (this.#queuedBytes > this.#backlogLimitBytes && !line.text.endsWith(ACTIVATION_LOG_SENTINEL)) {
      if (this.#queue[this.#queue.length - 1] !== OVERFLOW) this.#queue.push(OVERFLOW);
    } else {
      this.#queue.push(line);
      this.#queuedBytes += cost(line);
    }
    this.#notify();
  }

  /** Called by the source when no more lines will come (container gone, stream closed). */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #shift(): Item | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const item = this.#queue[this.#head++];
    if (item) this.#queuedBytes -= cost(item);
    if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Resolves on the next push or end, or after `ms`; true when something arrived. */
  #waitFor(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve(false);
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  async next(options: LogCollectOptions): Promise<string[]> {
    const sentinels = options.sentinels ?? true;
    const collector = new ActivationLogCollector(options.limitBytes);
    const deferred: LogLine[] = [];
    const deadline = Date.now() + options.waitMs;
    for (;;) {
      for (let item = this.#shift(); item !== undefined; item = this.#shift()) {
        if (item === OVERFLOW) collector.markOverflow();
        else if (collector.add(item) === 'deferred') deferred.push(item);
        if (sentinels && collector.complete) break;
      }
      const left = deadline - Date.now();
      if ((sentinels && collector.complete) || this.#ended || left <= 0) break;
      const arrived = await this.#waitFor(sentinels ? left : Math.min(left, QUIET_MS));
      if (!sentinels && !arrived) break;
    }
    // Lines of the next activation go back in front, in their order.
    if (deferred.length > 0) {
      this.#queue = [...deferred, ...this.#queue.slice(this.#head)];
      this.#head = 0;
      for (const line of deferred) this.#queuedBytes += cost(line);
    }
    return collector.finish(sentinels && !collector.complete ? LOG_NOTICES.collectionIssue : undefined);
  }

  close(): void {
    this.end();
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#onClose();
  }
}
