// What this controller knows about talking to each container it has leased: whether /init was
// sent and how it ended, and the container's log stream. The router owns the slots; this module
// owns the protocol state, and nothing else keeps any.
//
// Per container, the /init phase moves fresh → initializing → ready | failed, once. The first
// activation on a fresh container sends /init (after opening the log stream: output of loading
// the code belongs to that activation); activations that arrive meanwhile wait for its outcome.
// A stem cell's log stream is opened when it is leased (`prepare`), off the cold start's path.
import type { ActivationLogReader } from '../../backends/backend';
import type { ContainerInfo } from '../../common/types';
import { WHISK_MESSAGES } from '../../common/whisk-messages';
import { formatNotice } from '../../backends/logs/activation-log-collector';
import type { Logger } from '../../common/logger';
import type { ActivationResponse } from './classify';

export type InitOutcome = { ok: true } | { ok: false; response: ActivationResponse; timedOut: boolean };

type InitPhase =
  | { phase: 'fresh' }
  | { phase: 'initializing'; done: Promise<InitOutcome> }
  | { phase: 'ready' }
  | { phase: 'failed'; outcome: InitOutcome };

interface Session {
  init: InitPhase;
  /** The log stream and the collection in progress (reads on one container must not overlap). */
  logs?: { reader: ActivationLogReader; last: Promise<unknown> };
}

export interface ContainerSessionsDeps {
  /** Opens the log stream of a container; undefined when this controller cannot read its logs. */
  openLogs?: (container: ContainerInfo) => ActivationLogReader | undefined;
  log: Logger;
}

/** Longest a log collection waits for the sentinels: OpenWhisk's `max(5, logsMB) × 2 s`. */
const logWaitMs = (logsMB: number): number => Math.max(5, logsMB) * 2_000;

export class ContainerSessions {
  readonly #sessions = new Map<string, Session>();
  readonly #deps: ContainerSessionsDeps;

  constructor(deps: ContainerSessionsDeps) {
    this.#deps = deps;
  }

  /**
   * Opens the log stream of a container that has not started /init yet (a stem cell as it is
   * leased): opening it takes the controller's thread for most of a millisecond (measured), which
   * the cold start then does not wait for. `initialize` keeps it if the activation collects logs.
   */
  prepare(container: ContainerInfo): void {
    const session = this.#session(container.id);
    if (session.init.phase !== 'fresh' || session.logs || !this.#deps.openLogs) return;
    const reader = this.#deps.openLogs(container);
    if (reader) session.logs = { reader, last: Promise.resolve() };
  }

  /** True once /init succeeded on this container: the warm path, decided without an await. */
  isReady(containerId: string): boolean {
    return this.#sessions.get(containerId)?.init.phase === 'ready';
  }

  /**
   * The /init outcome of this container. The first caller sends it through `send` (`sent` is
   * true for that caller only); everyone else shares the same outcome. Containers with more than
   * one slot collect no logs: interleaved output of concurrent runs cannot be split (as OpenWhisk).
   */
  initialize(
    container: ContainerInfo,
    collectLogs: boolean,
    send: () => Promise<InitOutcome>,
  ): { sent: boolean; done: Promise<InitOutcome> } {
    const session = this.#session(container.id);
    const { init } = session;
    if (init.phase === 'ready') return { sent: false, done: Promise.resolve({ ok: true }) };
    if (init.phase === 'failed') return { sent: false, done: Promise.resolve(init.outcome) };
    if (init.phase === 'initializing') return { sent: false, done: init.done };
    if (!collectLogs && session.logs) {
      // Opened by `prepare`, for an action whose logs are not collected.
      session.logs.reader.close();
      delete session.logs;
    } else if (collectLogs && !session.logs && this.#deps.openLogs) {
      const reader = this.#deps.openLogs(container);
      if (reader) session.logs = { reader, last: Promise.resolve() };
    }
    const done = send().then((outcome) => {
      session.init = outcome.ok ? { phase: 'ready' } : { phase: 'failed', outcome };
      return outcome;
    });
    session.init = { phase: 'initializing', done };
    return { sent: true, done };
  }

  /**
   * The next activation's log lines from this container, read after its result (sentinel
   * framing). Call before the slot is released: reads chain in activation order. `failed` runs
   * read what is there without waiting for sentinels, and close the stream (the container goes).
   */
  collectLogs(containerId: string, logsMB: number, failed: boolean): Promise<string[]> {
    const logs = this.#sessions.get(containerId)?.logs;
    if (!logs) return Promise.resolve([]);
    const options = { limitBytes: logsMB * 1024 * 1024, waitMs: logWaitMs(logsMB), sentinels: !failed };
    const collected = logs.last.then(() => logs.reader.next(options));
    logs.last = collected.catch(() => undefined);
    if (failed) this.forget(containerId);
    return collected.catch((error: unknown) => {
      this.#deps.log.warn({ err: error, containerId }, 'log collection failed');
      return [formatNotice(WHISK_MESSAGES.logsCollectionIssue)];
    });
  }

  /** The container is gone: its log stream closes once the collection in progress ends. */
  forget(containerId: string): void {
    const session = this.#sessions.get(containerId);
    this.#sessions.delete(containerId);
    const logs = session?.logs;
    if (logs) void logs.last.finally(() => logs.reader.close());
  }

  /** Closes every log stream (shutdown). */
  close(): void {
    for (const { logs } of this.#sessions.values()) logs?.reader.close();
    this.#sessions.clear();
  }

  #session(containerId: string): Session {
    let session = this.#sessions.get(containerId);
    if (!session) {
      session = { init: { phase: 'fresh' } };
      this.#sessions.set(containerId, session);
    }
    return session;
  }
}
